package platformd

import "sessiondesk/app/domain"

// The client's errors are the app's domain errors: the provider hands them
// up unchanged, and the app reacts to them without knowing the system.
// Error.Kind is the contract's error code (the domain's kinds are
// platformd's codes; one the app does not know passes through).
type (
	// Error is a failure the platform answered with.
	Error = domain.Error
	// UnreachableError means the platform could not be reached, or did not
	// answer in time; callers treat it as "offline".
	UnreachableError = domain.UnreachableError
	// CertificateError means the platform's TLS certificate was refused.
	CertificateError = domain.CertificateError
)
