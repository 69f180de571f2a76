// Package store defines the platform's domain: organizations, users, sessions,
// devices and the audit log, and the Store interface that the HTTP layer
// consumes. Implementations live in sub-packages: store/sqlite (one
// process on a file) and store/postgres (any number of processes on one
// database); store/storetest checks these rules on both with the same cases.
//
// Rules every implementation keeps:
//
//   - Every write runs in one transaction, and a destructive write stores its
//     audit event in that same transaction.
//   - updated_at is assigned inside the write transaction and strictly
//     increases across the whole store (max(now, last+1µs)); rows changed by
//     one transaction share its timestamp and are ordered by id. The
//     updated_since feed therefore never misses a change: a change committed
//     later always carries a larger timestamp — also when several processes
//     write (timestamps are handed out in commit order; see each store).
//   - Expiry by the mere passage of time is not a write and does not bump
//     updated_at: clients compute "expired" from expires_at. Recording use
//     (last_active_at, which also slides expires_at) is a write and does.
//   - Every read and write that takes an org ID is confined to that
//     organization; a row of another organization is reported as NotFound,
//     exactly like a missing one.
//   - Lists use keyset pagination on immutable keys (created_at/first_seen_at
//     and id for the default order; updated_at and id for the feed), so pages
//     never repeat or skip a row while other rows are created or changed.
package store

import (
	"context"
	"time"
)

// Store is everything the platform needs from its database.
type Store interface {
	// IsEmpty reports whether no organization exists yet. Seeding refuses a
	// database that already holds data.
	IsEmpty(ctx context.Context) (bool, error)

	CreateOrg(ctx context.Context, slug, name string) (Org, error)
	OrgBySlug(ctx context.Context, slug string) (Org, error)
	OrgByID(ctx context.Context, id string) (Org, error)

	CreateUser(ctx context.Context, u NewUser) (User, error)
	// UserByEmail finds a user of an organization by e-mail (case-insensitive),
	// including the credential fields.
	UserByEmail(ctx context.Context, orgID, email string) (User, error)
	ListUsers(ctx context.Context, orgID string) ([]User, error)
	// SetPassword replaces a user's password hash and, in the same
	// transaction, ends every active session of the user, revokes the trust
	// of every trusted device of the user (forgetting their secrets) and
	// audits it (ActionUserPasswordReset, target the user, count the sessions
	// ended), even when nothing was ended.
	SetPassword(ctx context.Context, userID string, hash []byte, by Actor) (Revocation, error)
	// SetTOTPSecret enrolls (or with "" unenrolls) a user in TOTP, with the
	// same revocation and audit as SetPassword (ActionUserTOTPReset).
	SetTOTPSecret(ctx context.Context, userID, secret string, by Actor) (Revocation, error)
	// UseTOTPStep records that the user's code of the given step was accepted.
	// It reports false when that step (or a later one) was already used, so a
	// code cannot be replayed inside its validity window.
	UseTOTPStep(ctx context.Context, userID string, step int64) (bool, error)

	// DeviceOfUser returns the device when it exists and belongs to the user;
	// otherwise NotFound. It is the one read that fills TrustSecretHash.
	DeviceOfUser(ctx context.Context, userID, deviceID string) (Device, error)
	// SignIn records a successful login in one transaction: it creates the
	// device (DeviceID empty) or refreshes it, optionally trusts it, and
	// creates the session. With MaxSessions > 0 the user then has at most
	// that many active sessions: when the user already holds MaxSessions or
	// more, the least recently active ones (last_active_at, then id) end in
	// the same transaction (terminated_by none), each audited as
	// ActionSessionTerminate by the system actor with LimitReason. Two
	// sign-ins of one user, through any processes, never both count before
	// either has added its session.
	SignIn(ctx context.Context, in SignIn) (Session, Device, error)
	// Authenticate resolves a token hash to its session, user and
	// organization. Expiry and termination are the caller's to judge.
	Authenticate(ctx context.Context, tokenHash []byte) (Principal, error)
	// TouchSession records use of a session: last_active_at = now and
	// expires_at slides to min(absolute expiry, now+idle). It writes only when
	// the previous record is older than minInterval, so busy sessions do not
	// write on every request.
	TouchSession(ctx context.Context, sessionID string, idle, minInterval time.Duration) error
	// Logout terminates the caller's own session (terminated_by = its user).
	Logout(ctx context.Context, sessionID string) error

	GetSession(ctx context.Context, orgID, id string) (Session, error)
	ListSessions(ctx context.Context, orgID string, f SessionFilter) (Page[Session], error)
	// TerminateSession ends one session of the organization and audits it.
	// An already terminated session is returned unchanged, with no new audit
	// event.
	TerminateSession(ctx context.Context, orgID, id string, by Actor) (Session, error)
	// The three bulk ends below record one audit event whose TargetIDs are
	// the sessions it ended (at most api.MaxTargetIDs, in ID order), and no event
	// at all when they ended nothing: a zero-effect action changed nothing,
	// and an event would only reach every live stream as noise.
	//
	// TerminateAll ends every active session of the organization except
	// keepSessionID (may be empty) and audits it with the count. Sessions
	// that already expired are left as they are.
	TerminateAll(ctx context.Context, orgID, keepSessionID string, by Actor) (int, error)
	// TerminateUserSessions ends every active session of one user of the
	// organization except keepSessionID (may be empty) and audits it
	// (ActionUserSessionsTerminate, target the user, count the sessions
	// ended). A user of another organization is NotFound.
	TerminateUserSessions(ctx context.Context, orgID, userID, keepSessionID string, by Actor) (int, error)
	// TerminateSessions ends each listed active session of the organization
	// in one transaction and audits it (ActionSessionsTerminateSelected,
	// count the sessions ended). IDs that name no session of the
	// organization are returned in NotFound (in the order given, once each);
	// already ended sessions count as neither; duplicates count once.
	TerminateSessions(ctx context.Context, orgID string, ids []string, by Actor) (Selected, error)

	GetDevice(ctx context.Context, orgID, id string) (Device, error)
	ListDevices(ctx context.Context, orgID string, f DeviceFilter) (Page[Device], error)
	// UntrustDevice revokes a device's trust (and forgets its secret) and
	// audits it. An untrusted
	// device is returned unchanged, with no new audit event.
	UntrustDevice(ctx context.Context, orgID, id string, by Actor) (Device, error)

	ListAudit(ctx context.Context, orgID string, f AuditFilter) (Page[AuditEvent], error)

	// ReserveAttempt is the sign-in throttle's one atomic step, shared by
	// every process on the database: it forgets marks of the keys older than
	// window, and when every key has fewer marks (counted failures and
	// reservations of attempts in flight) than its Limit, it adds one
	// pending mark to each key under a new reservation ID. Otherwise it adds
	// nothing and reports in Wait how long until the Limit-th newest mark of
	// a full key leaves the window (at least a second). Two processes can
	// never both pass the check on the last free slot.
	ReserveAttempt(ctx context.Context, keys []ThrottleKey, now time.Time, window time.Duration) (Reservation, error)
	// SettleAttempt ends a reservation: failed keeps its marks as counted
	// failures; otherwise they are removed. clearKey (may be "") also loses
	// its settled failures (a successful sign-in clears its account), while
	// other reservations in flight keep theirs.
	SettleAttempt(ctx context.Context, reservationID string, failed bool, clearKey string) error
	// PruneAttempts deletes throttle marks older than before (housekeeping).
	PruneAttempts(ctx context.Context, before time.Time) (int, error)
	// AcquireStream is the event-stream caps' one atomic step, shared by
	// every process on the database: it counts the organization's, the
	// user's and the session's leases that expire after now and, when every
	// count is below its cap, stores the lease to expire at expires.
	// Otherwise it stores nothing and reports the cap that is full
	// (StreamCapSession, StreamCapUser or StreamCapOrg, checked in that
	// order; "" when granted). Two processes can never both pass the
	// check on the last free slot. On the way it deletes a bounded number
	// of expired leases (of any organization), so a crashed process's
	// leases leave the table by themselves.
	AcquireStream(ctx context.Context, l StreamLease, caps StreamCaps, now, expires time.Time) (full string, err error)
	// RenewStreams sets the expiry of one process's open streams' leases to
	// expires in one step, storing again any lease that is missing (one
	// that expired and was deleted while this process could not reach the
	// database): the table then again counts every stream that is open.
	RenewStreams(ctx context.Context, ls []StreamLease, expires time.Time) error
	// ReleaseStream deletes a lease when its stream closes; a missing lease
	// is no error.
	ReleaseStream(ctx context.Context, id string) error
	// DeleteEndedSessions deletes at most limit sessions that ended before
	// endedBefore: terminated before it, or expired (expires_at) before it.
	// The audit log is kept. Housekeeping calls it in small batches, off the
	// request path; a delta-feed client that synced after endedBefore has
	// already seen every deleted session end (a termination bumps
	// updated_at; an expiry is computed from expires_at), so its view stays
	// right.
	DeleteEndedSessions(ctx context.Context, endedBefore time.Time, limit int) (int, error)
	// DeleteStaleDevices deletes at most limit untrusted devices that were
	// neither seen (a sign-in) nor changed since unseenBefore and that no
	// session refers to: a device of an active session stays, and one of a
	// kept ended session stays until DeleteEndedSessions deleted that
	// session. Trusted devices are never deleted. Housekeeping calls it in
	// small batches; like a deleted session, a deleted device is not in the
	// change order (clients drop it at their next full sync).
	DeleteStaleDevices(ctx context.Context, unseenBefore time.Time, limit int) (int, error)
	// ChangeFeed is the change order live streams read (changes.go).
	ChangeFeed

	// BulkLoad inserts pre-built rows in one transaction. Seeds use it; it is
	// the only way to write rows with chosen IDs and past timestamps.
	BulkLoad(ctx context.Context, b Bulk) error

	Close() error
}

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

// Session statuses; they equal the wire values.
const (
	StatusActive     = "active"
	StatusExpired    = "expired"
	StatusTerminated = "terminated"
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

// Audit actions; they equal the wire values.
const (
	ActionSessionTerminate     = "session.terminate"
	ActionSessionsTerminateAll = "sessions.terminate_all"
	ActionDeviceUntrust        = "device.untrust"
	ActionUserPasswordReset    = "user.password_reset"
	ActionUserTOTPReset        = "user.totp_reset"
	// v1.1
	ActionUserSessionsTerminate     = "user.sessions.terminate"
	ActionSessionsTerminateSelected = "sessions.terminate_selected"
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

// Key is a position in a keyset-ordered list: the order column's value and
// the row's id, which breaks ties.
type Key struct {
	At time.Time
	ID string
}

// Page is one page of a list. Next is nil on the last page.
type Page[T any] struct {
	Items []T
	Next  *Key
}

// SessionFilter selects and orders sessions.
//
// Without UpdatedSince the order is created_at DESC, id DESC and After is
// the last row of the previous page. With UpdatedSince the list is the delta
// feed: sessions of every status with updated_at > UpdatedSince, ordered
// updated_at ASC, id ASC.
type SessionFilter struct {
	ActiveOnly   bool
	Now          time.Time // what "active" is judged against
	UserID       string
	Query        string // case-insensitive substring of email, name, ip, client
	Limit        int
	After        *Key
	UpdatedSince *time.Time
}

// DeviceFilter selects and orders devices, like SessionFilter (the default
// order is first_seen_at DESC, id DESC).
type DeviceFilter struct {
	Trusted      *bool
	UserID       string
	Query        string // email, user name, device name, last_ip, platform
	Limit        int
	After        *Key
	UpdatedSince *time.Time
}

// AuditFilter selects and pages the audit log, newest first. Empty fields
// do not filter.
type AuditFilter struct {
	Action string
	// ActorID is a user ID, or SystemActorID for the command line's events.
	ActorID      string
	TargetUserID string
	// Query is a case-insensitive substring of the reason, the target label,
	// or the actor's or target user's e-mail or name.
	Query string
	Limit int
	After *Key
}

// ThrottleKey is one counter a sign-in attempt counts against.
type ThrottleKey struct {
	Key   string
	Limit int
}

// Reservation is the answer of ReserveAttempt: OK with the ID to settle, or
// refused with how long to wait.
type Reservation struct {
	ID   string
	OK   bool
	Wait time.Duration
}

// StreamLease is one open event stream's place under the stream caps.
type StreamLease struct {
	ID        string // PrefixStream
	OrgID     string
	SessionID string
	UserID    string // the session's user
}

// StreamCaps are the most unexpired leases one session, one user (over all
// of the user's sessions) and one organization may hold.
type StreamCaps struct {
	PerSession int
	PerUser    int
	PerOrg     int
}

// The caps AcquireStream reports as full.
const (
	StreamCapSession = "session"
	StreamCapUser    = "user"
	StreamCapOrg     = "org"
)

// FullStreamCap is the cap AcquireStream reports for these counts of
// unexpired leases ("" when every count is below its cap), so that every
// store judges them in the same order.
func FullStreamCap(caps StreamCaps, inSession, inUser, inOrg int) string {
	switch {
	case inSession >= caps.PerSession:
		return StreamCapSession
	case inUser >= caps.PerUser:
		return StreamCapUser
	case inOrg >= caps.PerOrg:
		return StreamCapOrg
	}
	return ""
}

// Bulk is the input of BulkLoad. Sessions carry their token hash; rows get the
// transaction's updated_at.
type Bulk struct {
	Orgs     []Org
	Users    []NewUser
	Devices  []Device // User.ID identifies the owner
	Sessions []BulkSession
}

// BulkSession is a session row for BulkLoad.
type BulkSession struct {
	Session   Session // User.ID identifies the owner; TerminatedBy.ID the terminator
	TokenHash []byte
}
