package index

import (
	"net/netip"
	"strings"
	"time"

	"sessiondesk/app/domain"
)

// Default sort keys, as the bound-services contract defines them.
const (
	DefaultSessionSort = "last_active_at"
	DefaultDeviceSort  = "last_seen_at"
)

// NewSessions returns a table of sessions with the contract's sort keys:
// user, client, ip, location, created_at, last_active_at, expires_at, mfa,
// status.
func NewSessions() *Table[domain.Session] {
	return New(Spec[domain.Session]{
		ID: func(s *domain.Session) string { return s.ID },
		Text: func(s *domain.Session) string {
			return s.User.Email + "\n" + s.User.Name + "\n" + s.IP + "\n" + s.Client + "\n" + s.Location
		},
		Sorts: map[string]func(*domain.Session) Key{
			"user":           func(s *domain.Session) Key { return Key{Str: strings.ToLower(s.User.Email)} },
			"client":         func(s *domain.Session) Key { return Key{Str: strings.ToLower(s.Client)} },
			"ip":             func(s *domain.Session) Key { return ipKey(s.IP) },
			"location":       func(s *domain.Session) Key { return Key{Str: strings.ToLower(s.Location)} },
			"created_at":     func(s *domain.Session) Key { return timeKey(s.CreatedAt) },
			"last_active_at": func(s *domain.Session) Key { return timeKey(s.LastActiveAt) },
			"expires_at":     func(s *domain.Session) Key { return timeKey(s.ExpiresAt) },
			"mfa":            func(s *domain.Session) Key { return boolSortKey(s.MFA) },
			"status":         func(s *domain.Session) Key { return Key{Str: s.Status} },
		},
		Facet: func(s *domain.Session) Key { return Key{Num: s.ExpiresAt.UnixNano(), Str: s.Status} },
	})
}

// NewDevices returns a table of devices with the contract's sort keys: name,
// user, platform, first_seen_at, last_seen_at, last_ip, trusted.
func NewDevices() *Table[domain.Device] {
	return New(Spec[domain.Device]{
		ID: func(d *domain.Device) string { return d.ID },
		Text: func(d *domain.Device) string {
			return d.Name + "\n" + d.User.Email + "\n" + d.User.Name + "\n" + d.Platform + "\n" + d.LastIP
		},
		Sorts: map[string]func(*domain.Device) Key{
			"name":          func(d *domain.Device) Key { return Key{Str: strings.ToLower(d.Name)} },
			"user":          func(d *domain.Device) Key { return Key{Str: strings.ToLower(d.User.Email)} },
			"platform":      func(d *domain.Device) Key { return Key{Str: strings.ToLower(d.Platform)} },
			"first_seen_at": func(d *domain.Device) Key { return timeKey(d.FirstSeenAt) },
			"last_seen_at":  func(d *domain.Device) Key { return timeKey(d.LastSeenAt) },
			"last_ip":       func(d *domain.Device) Key { return ipKey(d.LastIP) },
			"trusted":       func(d *domain.Device) Key { return boolSortKey(d.Trusted) },
		},
		Facet: func(d *domain.Device) Key { return boolSortKey(d.Trusted) },
	})
}

// EffectiveStatus is the session's status as of now: the platform marks a
// session expired lazily, so an "active" one past its expiry is shown and
// counted as expired.
func EffectiveStatus(s *domain.Session, now time.Time) string {
	if s.Status == domain.StatusActive && !s.ExpiresAt.After(now) {
		return domain.StatusExpired
	}
	return s.Status
}

// ActiveFacet reports, from a session's facet, whether it is active at
// now (UnixNano): see EffectiveStatus.
func ActiveFacet(f Key, now int64) bool {
	return f.Str == domain.StatusActive && f.Num > now
}

// TrustedFacet reports, from a device's facet, whether it is trusted.
func TrustedFacet(f Key) bool { return f.Num == 1 }

func timeKey(t time.Time) Key { return Key{Num: t.UnixNano()} }

func boolSortKey(b bool) Key {
	if b {
		return Key{Num: 1}
	}
	return Key{}
}

// ipKey orders addresses numerically (IPv4 before IPv6); unparsable text
// sorts after both, by its text.
func ipKey(s string) Key {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return Key{Num: 2, Str: s}
	}
	b := a.As16()
	if a.Is4() {
		return Key{Num: 0, Str: string(b[:])}
	}
	return Key{Num: 1, Str: string(b[:])}
}
