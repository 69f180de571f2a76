package store

import (
	"time"
)

// The inputs of the Store's queries and writes: list keys and filters,
// throttling keys, stream caps and bulk loads.

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

// PageLimit is a list's page size: limit, 100 when unset.
func PageLimit(limit int) int {
	if limit <= 0 {
		return 100
	}
	return limit
}

// PageOf makes a page of the rows of a query that asked for limit+1: the
// row more than asked for tells that another page exists without a COUNT,
// and Next is the key of the page's last row.
func PageOf[T any](items []T, limit int, keyOf func(T) Key) Page[T] {
	page := Page[T]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		k := keyOf(page.Items[limit-1])
		page.Next = &k
	}
	return page
}
