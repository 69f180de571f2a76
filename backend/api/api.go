// Package api holds the wire contract between the Sessions Desk app and
// platformd: the JSON objects, the request bodies, the error codes and the
// permission names of Platform API v1. It is the only backend package the
// desktop app may import, so it depends on nothing but the standard library.
//
// The contract these types follow is openapi.yaml beside this file (tested
// against the server both ways); a change to one is a change to both.
package api

import "time"

// BasePath prefixes every endpoint except /healthz.
const BasePath = "/api/v1"

// MaxBodyBytes is the largest request body the server accepts.
const MaxBodyBytes = 64 << 10

// Permission names, exactly as the platform grants them.
const (
	PermSessionsView         = "platform.sessions.view"
	PermSessionsTerminateOrg = "pf.sessions.terminate_org"
	PermDevicesRevokeTrust   = "pf.devices.revoke_trust"
)

// Session statuses.
const (
	StatusActive     = "active"
	StatusExpired    = "expired"
	StatusTerminated = "terminated"
)

// Audit actions. Clients should show unknown actions as they are: the list
// may grow.
const (
	ActionSessionTerminate     = "session.terminate"
	ActionSessionsTerminateAll = "sessions.terminate_all"
	ActionDeviceUntrust        = "device.untrust"
	// ActionUserPasswordReset and ActionUserTOTPReset are recorded by the
	// platform's operator (platformd user passwd, user totp): target_id is
	// the user, count the sessions ended; the user's trusted devices were
	// untrusted in the same step.
	ActionUserPasswordReset = "user.password_reset"
	ActionUserTOTPReset     = "user.totp_reset"
	// v1.1: POST /users/{id}/sessions/terminate (target_id the user) and
	// POST /sessions/terminate (no target_id; target_user set when every
	// ended session was one person's).
	ActionUserSessionsTerminate     = "user.sessions.terminate"
	ActionSessionsTerminateSelected = "sessions.terminate_selected"
)

// SystemActorID is AuditEvent.Actor.ID of events recorded by the platform's
// operator at the command line rather than by a user; such an actor has an
// empty email and the name "platformd (command line)". It is never a user ID
// (those start with "usr_").
const SystemActorID = "system"

// Error codes. Each maps to exactly one HTTP status (see StatusOf).
const (
	CodeInvalidArgument  = "invalid_argument"
	CodeUnauthenticated  = "unauthenticated"
	CodeMFARequired      = "mfa_required"
	CodePermissionDenied = "permission_denied"
	CodeNotFound         = "not_found"
	// CodeMethodNotAllowed answers a known path called with the wrong method
	// (405, with an Allow header).
	CodeMethodNotAllowed = "method_not_allowed"
	// CodeUnsupportedMediaType answers a request whose body is not sent as
	// application/json (v1.1); nothing is changed.
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeRateLimited          = "rate_limited"
	CodeInternal             = "internal"
	CodeUnavailable          = "unavailable"
	// CodeRequestTimeout answers a request whose body did not arrive within
	// BodyReadTimeout (v1.2); it held no load-shedding slot.
	CodeRequestTimeout = "request_timeout"
	// CodeHeadersTooLarge answers a request whose headers exceed
	// MaxHeaderBytes (v1.2).
	CodeHeadersTooLarge = "request_header_fields_too_large"
)

// Limits of v1.2 that keep one client from hurting everyone.
const (
	// BodyReadTimeout is how long a request may take to send its body; the
	// body is read before the request takes a load-shedding slot.
	BodyReadTimeout = 5 * time.Second
	// MaxHeaderBytes bounds a request's headers (431 above).
	MaxHeaderBytes = 16 << 10
	// MaxLoggedPathBytes is how much of a request's path the access log keeps.
	MaxLoggedPathBytes = 256
	// MaxStreamsPerUser bounds a user's open event streams across all of the
	// user's sessions and every replica.
	MaxStreamsPerUser = 8
	// DefaultMaxSessionsPerUser is how many active sessions one user may
	// hold; a sign-in past it ends the least recently active one.
	DefaultMaxSessionsPerUser = 100
	// SessionLimitReason is the audit reason of a session ended by that cap.
	SessionLimitReason = "session limit"
	// DefaultRetainDevices is how long an untrusted device unseen is kept.
	DefaultRetainDevices = 90 * 24 * time.Hour
	// MaxTargetIDs bounds AuditEvent.TargetIDs.
	MaxTargetIDs = 1000
)

// StatusOf is the one table from error code to HTTP status.
func StatusOf(code string) int {
	switch code {
	case CodeInvalidArgument:
		return 400
	case CodeUnauthenticated, CodeMFARequired:
		return 401
	case CodePermissionDenied:
		return 403
	case CodeNotFound:
		return 404
	case CodeMethodNotAllowed:
		return 405
	case CodeRequestTimeout:
		return 408
	case CodeUnsupportedMediaType:
		return 415
	case CodeRateLimited:
		return 429
	case CodeHeadersTooLarge:
		return 431
	case CodeUnavailable:
		return 503
	default:
		return 500
	}
}

// ErrorBody is the body of every non-2xx answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail carries a machine code and a message a person can read.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// User is a member of an organization.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// Org is an organization (tenant).
type Org struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// Session is one sign-in: one token, one device, one user.
type Session struct {
	ID           string     `json:"id"`
	User         User       `json:"user"`
	DeviceID     *string    `json:"device_id"`
	IP           string     `json:"ip"`
	UserAgent    string     `json:"user_agent"`
	Client       string     `json:"client"`
	Location     string     `json:"location"`
	CreatedAt    time.Time  `json:"created_at"`
	LastActiveAt time.Time  `json:"last_active_at"`
	ExpiresAt    time.Time  `json:"expires_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	Status       string     `json:"status"`
	TerminatedAt *time.Time `json:"terminated_at"`
	TerminatedBy *User      `json:"terminated_by"`
	MFA          bool       `json:"mfa"`
	Current      bool       `json:"current"`
}

// Device is a client a user signed in from, recognized by its stable id.
type Device struct {
	ID          string     `json:"id"`
	User        User       `json:"user"`
	Name        string     `json:"name"`
	Platform    string     `json:"platform"`
	Trusted     bool       `json:"trusted"`
	TrustedAt   *time.Time `json:"trusted_at"`
	FirstSeenAt time.Time  `json:"first_seen_at"`
	LastSeenAt  time.Time  `json:"last_seen_at"`
	LastIP      string     `json:"last_ip"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// AuditEvent records one destructive action.
//
// TargetUser (v1.1) is whose session, device or account it was, null for
// actions on several people; TargetLabel names the target for people (a
// session's "client, IP", a device's name, "" otherwise). Both are recorded
// with the event and do not change afterwards.
//
// TargetIDs (v1.2) lists the sessions a bulk action ended
// (sessions.terminate_selected, user.sessions.terminate and the first
// MaxTargetIDs of sessions.terminate_all), so that the history outlives the
// housekeeping of ended sessions; empty for other actions.
type AuditEvent struct {
	ID          string    `json:"id"`
	At          time.Time `json:"at"`
	Actor       User      `json:"actor"`
	Action      string    `json:"action"`
	TargetID    *string   `json:"target_id"`
	TargetUser  *User     `json:"target_user"`
	TargetLabel string    `json:"target_label"`
	TargetIDs   []string  `json:"target_ids"`
	Count       int       `json:"count"`
	Reason      string    `json:"reason"`
}

// LoginDevice identifies the client device at sign-in. An empty or unknown ID
// creates a new device record whose ID the client must keep.
//
// Secret is the device secret the login that trusted this device returned
// (LoginResponse.DeviceSecret). A trusted device skips the TOTP step only
// when both ID and Secret match: device IDs are not secret (every viewer sees
// them in GET /devices and in sessions' device_id). Without it, or with a
// wrong one, the login is answered like one from an untrusted device
// (mfa_required), never with a distinct error. A secret longer than
// MaxDeviceSecretLen is treated as absent.
type LoginDevice struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Platform string `json:"platform,omitempty"`
	Secret   string `json:"secret,omitempty"`
}

// MaxDeviceSecretLen bounds LoginDevice.Secret; the server issues 43
// characters (32 random bytes, base64url without padding).
const MaxDeviceSecretLen = 256

// LoginRequest is the body of POST /auth/login.
type LoginRequest struct {
	Org         string      `json:"org"`
	Email       string      `json:"email"`
	Password    string      `json:"password"`
	Device      LoginDevice `json:"device"`
	TOTP        string      `json:"totp,omitempty"`
	TrustDevice bool        `json:"trust_device,omitempty"`
}

// LoginResponse is the answer to a successful login.
//
// DeviceSecret is set only by a login that trusted the device (trust_device
// with a valid totp): 32 random bytes, base64url without padding. It is shown
// this once (the platform keeps only its SHA-256), so the client stores it
// with the device ID, as securely as a token, and sends it as
// LoginDevice.Secret. Trusting the device again replaces it; revoking the
// device's trust (or a password reset or TOTP re-enrolment of its user)
// invalidates it.
type LoginResponse struct {
	Token        string  `json:"token"`
	Session      Session `json:"session"`
	User         User    `json:"user"`
	Device       Device  `json:"device"`
	DeviceSecret string  `json:"device_secret,omitempty"`
}

// Me is the answer of GET /me.
type Me struct {
	User        User     `json:"user"`
	Org         Org      `json:"org"`
	Permissions []string `json:"permissions"`
	SessionID   string   `json:"session_id"`
}

// Has reports whether the caller holds perm.
func (m Me) Has(perm string) bool {
	for _, p := range m.Permissions {
		if p == perm {
			return true
		}
	}
	return false
}

// SessionList is one page of sessions.
type SessionList struct {
	Items      []Session `json:"items"`
	NextCursor *string   `json:"next_cursor"`
}

// DeviceList is one page of devices.
type DeviceList struct {
	Items      []Device `json:"items"`
	NextCursor *string  `json:"next_cursor"`
}

// AuditList is one page of audit events, newest first.
type AuditList struct {
	Items      []AuditEvent `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

// ReasonRequest is the optional body of terminate and untrust.
type ReasonRequest struct {
	Reason string `json:"reason,omitempty"`
}

// TerminateAllRequest is the body of POST /sessions/terminate-all.
// KeepCurrent defaults to true when absent.
type TerminateAllRequest struct {
	KeepCurrent *bool  `json:"keep_current,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// TerminateUserRequest is the body of POST /users/{id}/sessions/terminate.
// KeepCurrent defaults to true when absent; it matters only when the user is
// the caller.
type TerminateUserRequest = TerminateAllRequest

// TerminateSelectedRequest is the body of POST /sessions/terminate: 1 to
// MaxSelected session IDs (duplicates count once).
type TerminateSelectedRequest struct {
	IDs    []string `json:"ids"`
	Reason string   `json:"reason,omitempty"`
}

// MaxSelected bounds TerminateSelectedRequest.IDs.
const MaxSelected = 1000

// TerminateSelectedResponse tells how many sessions were ended and which IDs
// name no session of the caller's organization.
type TerminateSelectedResponse struct {
	Terminated int      `json:"terminated"`
	NotFound   []string `json:"not_found"`
}

// MaxActionLen bounds the action filter of GET /audit.
const MaxActionLen = 64

// TerminateAllResponse tells how many sessions were ended.
type TerminateAllResponse struct {
	Terminated int `json:"terminated"`
}

// List limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// MaxReasonLen bounds the free-text reason recorded in the audit log.
const MaxReasonLen = 500

// Limits of client-set fields of a sign-in (v1.1). The User-Agent header is
// cut to MaxUserAgentBytes on a UTF-8 boundary, never refused; a longer device
// name or platform (in characters) is refused with 400.
const (
	MaxUserAgentBytes    = 512
	MaxDeviceNameLen     = 200
	MaxDevicePlatformLen = 100
)
