package bind

import (
	"errors"
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
// of a bare string. Errors that are not UIErrors become code "internal" with
// their message, which by construction never holds a secret (the client and
// the keychain wrap errors without credentials).
func FormatError(err error) any {
	var ue *UIError
	if errors.As(err, &ue) {
		return ue
	}
	return &UIError{Code: "internal", Message: err.Error()}
}
