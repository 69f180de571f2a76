package domain

import (
	"errors"
	"fmt"
	"time"
)

// Error kinds: what went wrong, as the app reacts to it. The UI receives
// the kind as its error code, so the values are the codes it has always
// branched on (platformd's). A provider maps its system's failures to
// them; a kind the app does not know passes through to the UI as it is.
const (
	KindInvalid          = "invalid_argument"
	KindUnauthenticated  = "unauthenticated"
	KindMFARequired      = "mfa_required"
	KindPermissionDenied = "permission_denied"
	KindNotFound         = "not_found"
	KindRateLimited      = "rate_limited"
	KindUnavailable      = "unavailable"
	KindInternal         = "internal"
)

// Error is a failure the identity system answered with (or a provider's
// own refusal of an input): a kind, a message a person can read, and what
// else the app needs to react. Its text never holds a credential.
type Error struct {
	Kind    string
	Message string
	// Status is the system's HTTP status, 0 when the provider refused
	// before asking.
	Status int
	// RetryAfter is the wait the system asked for (429/503), if any.
	RetryAfter time.Duration
	// Field names the sign-in input the error concerns ("server",
	// "caFile"), "" when none.
	Field string
	// Reason, when set, is the app's own refusal (one of the Reason…
	// codes): the app words it in its one text table (desk/errors.go),
	// filled in with Args, and Message is empty. Message is the system's
	// own words (platformd's error body).
	Reason string
	Args   []any
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("platform: %s (%d): %s %v", e.Kind, e.Status, e.Reason, e.Args)
	}
	return fmt.Sprintf("platform: %s (%d): %s", e.Kind, e.Status, e.Message)
}

// Reasons the app refuses an input itself (Error.Reason), with their Args.
const (
	ReasonAddressShape     = "address_shape"      // not http(s)://host[:port]
	ReasonAddressParts     = "address_parts"      // credentials, a query or a fragment
	ReasonAddressPlainHTTP = "address_plain_http" // plain http to another computer
	ReasonCAFile           = "ca_file"            // Args: the path, what is wrong with it
	ReasonNoDeviceTrust    = "no_device_trust"    // the system has no device trust
	ReasonTooManySelected  = "too_many_selected"  // Args: the most at a time
)

// UnreachableError means the identity system could not be reached, or did
// not answer in time: a connection error, a timeout, or an outage answer
// left after the retries. The app treats it as offline.
type UnreachableError struct {
	Err error
	// Answered: the system did answer (its headers arrived, or it said it
	// is busy), but the answer broke off or it is too busy. The link or
	// the system is unreliable, not gone.
	Answered bool
}

func (e *UnreachableError) Error() string {
	return "platform unreachable: " + e.Err.Error()
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// KindOf returns the kind carried by err ("" if none).
func KindOf(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	return ""
}

// IsUnreachable reports whether err means the system could not be reached.
func IsUnreachable(err error) bool {
	var ue *UnreachableError
	return errors.As(err, &ue)
}

// Answered reports whether err, an unreachable error, still came with
// signs that the system is there (see UnreachableError.Answered).
func Answered(err error) bool {
	var ue *UnreachableError
	return errors.As(err, &ue) && ue.Answered
}

// RetryAfterOf returns the wait the system asked for, when err carries
// one.
func RetryAfterOf(err error) (time.Duration, bool) {
	var pe *Error
	if errors.As(err, &pe) && pe.RetryAfter > 0 {
		return pe.RetryAfter, true
	}
	return 0, false
}

// IsUnauthenticated reports whether the system rejected the credential
// (not a request for the second factor): the signed-in session is over.
func IsUnauthenticated(err error) bool {
	return KindOf(err) == KindUnauthenticated
}

// CertificateError means the system's TLS certificate was refused: signed
// by an authority this computer does not trust, issued for another name,
// or expired. Retrying does not help, and it is not "offline": the user
// (or an administrator) must fix the trust.
type CertificateError struct {
	Err error
}

func (e *CertificateError) Error() string {
	return "platform: certificate not trusted: " + e.Err.Error()
}

func (e *CertificateError) Unwrap() error { return e.Err }

// IsCertificate reports whether err is a refused certificate.
func IsCertificate(err error) bool {
	var ce *CertificateError
	return errors.As(err, &ce)
}
