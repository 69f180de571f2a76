package store

import (
	"errors"
	"fmt"
)

// Error codes of domain errors. The HTTP layer maps them to wire codes; any
// other error is internal.
const (
	ENotFound = "not_found"
	EInvalid  = "invalid"
	EConflict = "conflict"
	// EUnavailable: the database cannot be reached right now (connection
	// refused or lost mid-request). The request may be retried; the HTTP
	// layer answers 503 unavailable.
	EUnavailable = "unavailable"
)

// Error is a domain error: a machine code and a message that is safe to show
// to the caller.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf builds a domain error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the domain error in err's chain, or "" when
// err is not a domain error (an internal failure).
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ErrorMessage returns the message of the domain error in err's chain.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

// IsNotFound reports whether err is a NotFound domain error.
func IsNotFound(err error) bool { return ErrorCode(err) == ENotFound }
