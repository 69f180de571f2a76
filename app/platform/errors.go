package platform

import (
	"errors"
	"fmt"
	"syscall"

	"sessiondesk/backend/api"
)

// Error is a failure the platform answered with: the HTTP status and the
// contract's error code and message. Its text never holds a credential.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("platform: %s (%d): %s", e.Code, e.Status, e.Message)
}

// UnreachableError means the platform could not be reached, or did not answer
// in time: a connection error, a timeout, or a 5xx/503 left after the retries.
// Callers treat it as "offline".
type UnreachableError struct {
	Err error
}

func (e *UnreachableError) Error() string {
	return "platform unreachable: " + e.Err.Error()
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// CodeOf returns the contract error code carried by err ("" if none).
func CodeOf(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// IsUnreachable reports whether err means the platform could not be reached.
func IsUnreachable(err error) bool {
	var ue *UnreachableError
	return errors.As(err, &ue)
}

// IsUnauthenticated reports whether the platform rejected the token or the
// credentials (401 unauthenticated, not mfa_required).
func IsUnauthenticated(err error) bool {
	return CodeOf(err) == api.CodeUnauthenticated
}

// isConnRefused is true only when the server's port answered "nothing here":
// the request cannot have reached the handler, so even a non-idempotent call
// is safe to send again.
func isConnRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}
