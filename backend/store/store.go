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
