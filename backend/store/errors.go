package store

import (
	"context"
	"errors"
	"fmt"
)

// Error codes of domain errors. The HTTP layer maps them to wire codes; any
// other error is internal.
const (
	ENotFound = "not_found"
	EInvalid  = "invalid"
	EConflict = "conflict"
	// EUnavailable: the store cannot do this now: its disk is full or its
	// file cannot be written (the message tells an operator what to fix),
	// or the database cannot be reached (connection refused or lost
	// mid-request). It passes by itself once the cause is gone; the HTTP
	// layer answers 503 unavailable.
	EUnavailable = "unavailable"
)

// WriteChecker is implemented by stores that can check, with a real but
// harmless write, whether they can write again after an EUnavailable error.
// The health check uses it so that a replica recovers by itself, even when
// no client write reaches it meanwhile.
type WriteChecker interface {
	CheckWritable(ctx context.Context) error
}

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
