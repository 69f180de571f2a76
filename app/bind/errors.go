package bind

import (
	"errors"

	"sessiondesk/app/desk"
)

// UIError is what the frontend receives when a bound method fails: a stable
// machine code to branch on, a message a person can read, and optionally the
// form field the error concerns.
type UIError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *UIError) Error() string { return e.Message }

// FormatError is the Wails ErrorFormatter: it turns any error returned by a
// bound method into a UIError so that TypeScript gets {code, message} instead
// of a bare string. The wording is desk.UserError's.
func FormatError(err error) any {
	return uiError(err)
}

// uiError turns what the layers below return into a UIError (nil stays nil).
func uiError(err error) error {
	if err == nil {
		return nil
	}
	return toUIError(err)
}

// toUIError is uiError for a non-nil err, typed (a result can carry it).
func toUIError(err error) *UIError {
	var ue *UIError
	if errors.As(err, &ue) {
		return ue
	}
	de := desk.UserError(err)
	return &UIError{Code: de.Code, Message: de.Message, Field: de.Field}
}
