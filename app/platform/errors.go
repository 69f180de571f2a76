package platform

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"sessiondesk/backend/api"
)

// Error is a failure the platform answered with: the HTTP status and the
// contract's error code and message. Its text never holds a credential.
type Error struct {
	Status  int
	Code    string
	Message string
	// RetryAfter is the wait a 429 or 503 asked for (Retry-After), if any.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("platform: %s (%d): %s", e.Code, e.Status, e.Message)
}

// UnreachableError means the platform could not be reached, or did not answer
// in time: a connection error, a timeout, or a 5xx/503 left after the retries.
// Callers treat it as "offline".
type UnreachableError struct {
	Err error
	// Answered: the platform did answer (its headers arrived, or it said
	// 503), but the answer broke off or it is too busy. The link or the
	// platform is unreliable, not gone.
	Answered bool
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

// Answered reports whether err, an unreachable error, still came with signs
// that the platform is there (see UnreachableError.Answered).
func Answered(err error) bool {
	var ue *UnreachableError
	return errors.As(err, &ue) && ue.Answered
}

// RetryAfterOf returns the wait the platform asked for with a 429 or 503
// (Retry-After), when err carries one.
func RetryAfterOf(err error) (time.Duration, bool) {
	var pe *Error
	if errors.As(err, &pe) && pe.RetryAfter > 0 {
		return pe.RetryAfter, true
	}
	return 0, false
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
