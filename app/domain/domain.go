// Package domain holds the app's own picture of what it manages: sessions,
// devices, audit events, the people they belong to, who is signed in and
// what the signed-in identity system can do.
//
// Why the app has its own domain. The app once used platformd's wire types
// (backend/api) for everything from the cache to the UI, which tied every
// layer to one server's contract: a team that runs another identity system
// (Ory Kratos, say) could not use the app at all, and a change to the wire
// rippled through the cache codec, the indexes and the TypeScript model. Now
// a provider (app/provider) speaks its system's contract at the edge and
// hands the app these types; nothing below the provider knows which system
// it talks to. The provider seam test (app/seam_test.go) keeps it so.
//
// The JSON names are the ones the UI and the sealed cache have always used
// (they were platformd's wire names), so the TypeScript model, the cached
// identity in profiles.json and old caches keep their shape. Types the app
// added for itself (Capabilities) use the UI's camelCase.
//
// The package depends on nothing but the standard library.
package domain

import "time"

// Person is someone a session, device or audit event belongs to, or who
// acted: the identity system's user (platformd's user, Kratos' identity).
type Person struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// Org is the organization (tenant) the signed-in person manages; a
// provider without tenants gives one that names the system.
type Org struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// Session statuses. A session whose expiry has passed may still read
// "active" until the system notices; the app judges expiry itself on the
// system's clock (see index.EffectiveStatus).
const (
	StatusActive     = "active"
	StatusExpired    = "expired"
	StatusTerminated = "terminated"
)

// Session is one sign-in: one token, one device, one person.
type Session struct {
	ID           string    `json:"id"`
	User         Person    `json:"user"`
	DeviceID     *string   `json:"device_id"`
	IP           string    `json:"ip"`
	UserAgent    string    `json:"user_agent"`
	Client       string    `json:"client"`
	Location     string    `json:"location"`
	CreatedAt    time.Time `json:"created_at"`
	LastActiveAt time.Time `json:"last_active_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	// UpdatedAt is the watermark of the change feed: a delta asks for what
	// changed after the highest one held (see Changes).
	UpdatedAt    time.Time  `json:"updated_at"`
	Status       string     `json:"status"`
	TerminatedAt *time.Time `json:"terminated_at"`
	TerminatedBy *Person    `json:"terminated_by"`
	MFA          bool       `json:"mfa"`
	// Current: the session is the signed-in person's own (as the system
	// told the token that read it; the app recomputes it from Me).
	Current bool `json:"current"`
}

// Device is a client a person signed in from.
type Device struct {
	ID          string     `json:"id"`
	User        Person     `json:"user"`
	Name        string     `json:"name"`
	Platform    string     `json:"platform"`
	Trusted     bool       `json:"trusted"`
	TrustedAt   *time.Time `json:"trusted_at"`
	FirstSeenAt time.Time  `json:"first_seen_at"`
	LastSeenAt  time.Time  `json:"last_seen_at"`
	LastIP      string     `json:"last_ip"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Audit actions the app knows by name; unknown actions are shown as they
// are (the list may grow).
const (
	ActionSessionTerminate          = "session.terminate"
	ActionSessionsTerminateAll      = "sessions.terminate_all"
	ActionDeviceUntrust             = "device.untrust"
	ActionUserPasswordReset         = "user.password_reset"
	ActionUserTOTPReset             = "user.totp_reset"
	ActionUserSessionsTerminate     = "user.sessions.terminate"
	ActionSessionsTerminateSelected = "sessions.terminate_selected"
)

// AuditEvent records one destructive action.
//
// TargetUser is whose session, device or account it was (nil for actions
// on several people); TargetLabel names the target for people. TargetIDs
// lists the sessions a bulk action ended, so that the history outlives the
// housekeeping of ended sessions; empty for other actions.
type AuditEvent struct {
	ID          string    `json:"id"`
	At          time.Time `json:"at"`
	Actor       Person    `json:"actor"`
	Action      string    `json:"action"`
	TargetID    *string   `json:"target_id"`
	TargetUser  *Person   `json:"target_user"`
	TargetLabel string    `json:"target_label"`
	TargetIDs   []string  `json:"target_ids"`
	Count       int       `json:"count"`
	Reason      string    `json:"reason"`
}

// Me is who is signed in: the person, the organization, what the system
// lets them do, and which session is their own.
type Me struct {
	User        Person   `json:"user"`
	Org         Org      `json:"org"`
	Permissions []string `json:"permissions"`
	SessionID   string   `json:"session_id"`
}

// Permission names the app checks (the system enforces them; the UI only
// mirrors them). They are platformd's names; a provider whose system has
// no such grants gives the ones its credential amounts to.
const (
	PermSessionsView         = "platform.sessions.view"
	PermSessionsTerminateOrg = "pf.sessions.terminate_org"
	PermDevicesRevokeTrust   = "pf.devices.revoke_trust"
)

// Has reports whether the signed-in person holds perm.
func (m Me) Has(perm string) bool {
	for _, p := range m.Permissions {
		if p == perm {
			return true
		}
	}
	return false
}

// Limits the app keeps to whatever the provider.
const (
	// MaxSelected is how many sessions one "end a chosen set" request
	// carries; a larger selection is sent in batches of it.
	MaxSelected = 1000
	// MaxReasonLen bounds the free-text reason of an action (characters).
	MaxReasonLen = 500
	// MaxTargetIDs bounds AuditEvent.TargetIDs: the sessions one event
	// lists (the first of a larger bulk end).
	MaxTargetIDs = 1000
	// DefaultPage and MaxPage bound one page read from a provider.
	DefaultPage = 100
	MaxPage     = 1000
)

// Page is one page of a list read from a provider. Next is the cursor of
// the page after it ("" at the end).
type Page[T any] struct {
	Items []T
	Next  string
}

// PageRequest asks a provider for one page. Since, when not zero, asks for
// the change feed instead of the list: rows of every status changed at or
// after Since, oldest change first (a full sync asks from the epoch). A
// provider without a change feed answers every row; the syncer drops the
// ones it holds unchanged.
type PageRequest struct {
	Limit  int
	Cursor string
	Since  time.Time
}

// Changes is what changed since a watermark, as a provider's live source
// pushes it, in the order it happened.
type Changes struct {
	Sessions []Session
	Devices  []Device
	Audit    []AuditEvent
}

// Ended is what a bulk end did: how many sessions ended, and which of the
// IDs given name no session of the organization.
type Ended struct {
	Terminated int
	NotFound   []string
}

// Progress is how far a long bulk end has come: Done of Total sessions
// (Total 0 when not known in advance).
type Progress struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}
