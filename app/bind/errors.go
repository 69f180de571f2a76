package bind

import (
	"errors"

	"sessiondesk/app/desk"
	"sessiondesk/app/platform"
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
// of a bare string. Desk and platform errors keep their codes; anything else
// becomes code "internal" with its message, which by construction never holds a secret (the client and
// the keychain wrap errors without credentials).
func FormatError(err error) any {
	return uiError(err)
}

// uiError turns what the layers below return into a UIError (nil stays nil).
func uiError(err error) error {
	if err == nil {
		return nil
	}
	var ue *UIError
	if errors.As(err, &ue) {
		return ue
	}
	var de *desk.Error
	if errors.As(err, &de) {
		return &UIError{Code: de.Code, Message: de.Message, Field: de.Field}
	}
	if platform.IsUnreachable(err) {
		return &UIError{Code: desk.CodeOffline, Message: "The platform cannot be reached."}
	}
	var pe *platform.Error
	if errors.As(err, &pe) {
		return &UIError{Code: pe.Code, Message: pe.Message}
	}
	return &UIError{Code: "internal", Message: err.Error()}
}
