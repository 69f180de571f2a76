package store

import (
	"time"

	"sessiondesk/backend/api"
)

// The domain's records: what the Store keeps and hands back.

// Org is an organization (tenant).
type Org struct {
	ID        string
	Slug      string
	Name      string
	CreatedAt time.Time
}

// User is a member of one organization. PasswordHash and TOTPSecret are set
// only by the lookups that need them (UserByEmail); joined users carry ID,
// Email and Name.
type User struct {
	ID           string
	OrgID        string
	Email        string
	Name         string
	Role         string
	PasswordHash []byte
	TOTPSecret   string
	CreatedAt    time.Time
}

// HasTOTP reports whether the user is enrolled in TOTP.
func (u User) HasTOTP() bool { return u.TOTPSecret != "" }

// NewUser is the input of CreateUser. ID is assigned when empty.
type NewUser struct {
	ID           string
	OrgID        string
	Email        string
	Name         string
	Role         string
	PasswordHash []byte
	TOTPSecret   string
}

// Session is one sign-in.
type Session struct {
	ID                string
	OrgID             string
	User              User
	DeviceID          string // "" when the session has no device
	IP                string
	UserAgent         string
	Client            string
	Location          string
	MFA               bool
	CreatedAt         time.Time
	LastActiveAt      time.Time
	ExpiresAt         time.Time // min(AbsoluteExpiresAt, LastActiveAt+idle)
	AbsoluteExpiresAt time.Time
	UpdatedAt         time.Time
	TerminatedAt      *time.Time
	TerminatedBy      *User
}

// Session statuses; they are the wire values, which the api package defines.
const (
	StatusActive     = api.StatusActive
	StatusExpired    = api.StatusExpired
	StatusTerminated = api.StatusTerminated
)

// Status is the session's state at now.
func (s Session) Status(now time.Time) string {
	switch {
	case s.TerminatedAt != nil:
		return StatusTerminated
	case !now.Before(s.ExpiresAt):
		return StatusExpired
	default:
		return StatusActive
	}
}

// Device is a client a user signed in from.
type Device struct {
	ID          string
	OrgID       string
	User        User
	Name        string
	Platform    string
	TrustedAt   *time.Time
	FirstSeenAt time.Time
	LastSeenAt  time.Time
	LastIP      string
	UpdatedAt   time.Time
	// TrustSecretHash is the SHA-256 of the device secret issued when the
	// device was trusted (nil when untrusted). Only DeviceOfUser reads it;
	// it never leaves the platform.
	TrustSecretHash []byte
}

// Trusted reports whether the device is trusted. A trusted device skips the
// TOTP step only when the login also presents its secret.
func (d Device) Trusted() bool { return d.TrustedAt != nil }

// AuditEvent records one destructive action.
type AuditEvent struct {
	ID       string
	OrgID    string
	At       time.Time
	Actor    User
	Action   string
	TargetID string // "" for actions without a single target
	// TargetUser is whose session, device or account it was (nil for
	// actions on several people, such as terminate-all). TargetLabel names
	// the target for people ("Chrome 131 on Windows, 203.0.113.10" for a
	// session, the device name for a device, "" otherwise). Both are written
	// with the event, so the log keeps saying what was ended even after the
	// row changes.
	TargetUser  *User
	TargetLabel string
	// TargetIDs are the sessions a bulk end ended (ActionSessionsTerminateAll,
	// ActionUserSessionsTerminate, ActionSessionsTerminateSelected): at most
	// api.MaxTargetIDs, in ID order, so that the history outlives the
	// housekeeping of ended sessions. Empty (not nil) for other actions.
	TargetIDs []string
	Count     int
	Reason    string
}

// SessionLabel is the TargetLabel of an audited session: its client and IP.
func SessionLabel(client, ip string) string {
	switch {
	case client == "":
		return ip
	case ip == "":
		return client
	}
	return client + ", " + ip
}

// Selected is what TerminateSessions did.
type Selected struct {
	Terminated int
	NotFound   []string
}

// Audit actions; they are the wire values, which the api package defines.
const (
	ActionSessionTerminate          = api.ActionSessionTerminate
	ActionSessionsTerminateAll      = api.ActionSessionsTerminateAll
	ActionDeviceUntrust             = api.ActionDeviceUntrust
	ActionUserPasswordReset         = api.ActionUserPasswordReset
	ActionUserTOTPReset             = api.ActionUserTOTPReset
	ActionUserSessionsTerminate     = api.ActionUserSessionsTerminate
	ActionSessionsTerminateSelected = api.ActionSessionsTerminateSelected
)

// Actor is who performs a destructive action, and why. An empty UserID is
// the platform's operator at the command line (platformd user passwd, user
// totp), who is no user: the audit event then has no actor row, and reads
// back with Actor = SystemActor(); sessions it ends have no terminated_by.
type Actor struct {
	UserID string
	Reason string
}

// SystemActorID is the actor ID of audit events recorded by the platform's
// operator at the command line. It is not a user ID (those start "usr_"), so
// it can never name a real user.
const SystemActorID = "system"

// SystemActor is the user an audit event of the command line reads back
// with: ID SystemActorID, no e-mail, a descriptive name.
func SystemActor() User {
	return User{ID: SystemActorID, Name: "platformd (command line)"}
}

// Revocation counts what a credential change ended.
type Revocation struct {
	Sessions int // active sessions ended
	Devices  int // trusted devices untrusted
}

// Principal is what a token resolves to.
type Principal struct {
	Session Session
	User    User // with Role
	Org     Org
}

// SignIn is the input of Store.SignIn.
type SignIn struct {
	UserID    string
	TokenHash []byte
	// DeviceID of an existing device of this user; "" creates a new device
	// named DeviceName on DevicePlatform.
	DeviceID       string
	DeviceName     string
	DevicePlatform string
	// TrustDevice trusts the device and stores TrustSecretHash (the SHA-256
	// of the newly issued device secret), replacing any earlier one.
	TrustDevice     bool
	TrustSecretHash []byte
	IP              string
	UserAgent       string
	Client          string
	Location        string
	MFA             bool
	Idle            time.Duration
	Absolute        time.Duration
	// MaxSessions caps the user's active sessions, this one included
	// (0: no cap); LimitReason is the audit reason of the sessions the cap
	// ends.
	MaxSessions int
	LimitReason string
}
