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
		ID:   func(s *domain.Session) string { return s.ID },
		Text: func(s *domain.Session) string { return s.IP },
		Labels: []Label[domain.Session]{
			{func(s *domain.Session) string { return s.User.Email }, func(s *domain.Session) string { return s.User.Name }},
			{func(s *domain.Session) string { return s.Client }},
			{func(s *domain.Session) string { return s.Location }},
		},
		Pack:   packSession,
		Unpack: unpackSession,
		Sorts: map[string]func(*domain.Session) Key{
			"user":           func(s *domain.Session) Key { return textKey(s.User.Email) },
			"client":         func(s *domain.Session) Key { return textKey(s.Client) },
			"ip":             func(s *domain.Session) Key { return ipKey(s.IP) },
			"location":       func(s *domain.Session) Key { return textKey(s.Location) },
			"created_at":     func(s *domain.Session) Key { return timeKey(s.CreatedAt) },
			"last_active_at": func(s *domain.Session) Key { return timeKey(s.LastActiveAt) },
			"expires_at":     func(s *domain.Session) Key { return timeKey(s.ExpiresAt) },
			"mfa":            func(s *domain.Session) Key { return boolSortKey(s.MFA) },
			"status":         func(s *domain.Session) Key { return Key{Str: s.Status} },
		},
		Facet: func(s *domain.Session) Key { return Key{Num: s.ExpiresAt.UnixNano(), Str: s.Status} },
		Tally: sessionTally,
	})
}

// NewDevices returns a table of devices with the contract's sort keys: name,
// user, platform, first_seen_at, last_seen_at, last_ip, trusted.
func NewDevices() *Table[domain.Device] {
	return New(Spec[domain.Device]{
		ID:   func(d *domain.Device) string { return d.ID },
		Text: func(d *domain.Device) string { return d.LastIP },
		Labels: []Label[domain.Device]{
			{func(d *domain.Device) string { return d.Name }},
			{func(d *domain.Device) string { return d.User.Email }, func(d *domain.Device) string { return d.User.Name }},
			{func(d *domain.Device) string { return d.Platform }},
		},
		Pack:   packDevice,
		Unpack: unpackDevice,
		Sorts: map[string]func(*domain.Device) Key{
			"name":          func(d *domain.Device) Key { return textKey(d.Name) },
			"user":          func(d *domain.Device) Key { return textKey(d.User.Email) },
			"platform":      func(d *domain.Device) Key { return textKey(d.Platform) },
			"first_seen_at": func(d *domain.Device) Key { return timeKey(d.FirstSeenAt) },
			"last_seen_at":  func(d *domain.Device) Key { return timeKey(d.LastSeenAt) },
			"last_ip":       func(d *domain.Device) Key { return ipKey(d.LastIP) },
			"trusted":       func(d *domain.Device) Key { return boolSortKey(d.Trusted) },
		},
		Facet: func(d *domain.Device) Key { return boolSortKey(d.Trusted) },
		Tally: deviceTally,
	})
}

// A session's record: what many sessions share (the person, the device,
// the agent and its label, the place, the status) as symbols, the id as
// bytes, the address as Packer.Text. What the overview reads (sessionTally)
// comes first after the id.
func packSession(p *Packer, s *domain.Session) {
	p.Str(s.ID)
	p.Sym(s.Client)
	p.Sym(s.Location)
	p.Time(s.CreatedAt)
	p.Uint(flags(s.MFA, s.Current, s.TerminatedBy != nil))
	packPerson(p, &s.User)
	p.OptSym(s.DeviceID)
	p.Text(s.IP)
	p.Sym(s.UserAgent)
	p.Time(s.LastActiveAt)
	p.Time(s.ExpiresAt)
	p.Time(s.UpdatedAt)
	p.Sym(s.Status)
	p.OptTime(s.TerminatedAt)
	if s.TerminatedBy != nil {
		packPerson(p, s.TerminatedBy)
	}
}

func unpackSession(u Unpacker, s *domain.Session) {
	*s = domain.Session{ID: u.Str(), Client: u.Sym(), Location: u.Sym(), CreatedAt: u.Time()}
	f := u.Uint()
	s.MFA, s.Current = f&1 != 0, f&2 != 0
	s.User, s.DeviceID, s.IP, s.UserAgent = unpackPerson(&u), u.OptSym(), u.Text(), u.Sym()
	s.LastActiveAt, s.ExpiresAt, s.UpdatedAt = u.Time(), u.Time(), u.Time()
	s.Status, s.TerminatedAt = u.Sym(), u.OptTime()
	if f&4 != 0 {
		by := unpackPerson(&u)
		s.TerminatedBy = &by
	}
}

// sessionTally is what the overview reads of a session: when it began,
// MFA, the client and the place (and, in the facet, whether it is active).
func sessionTally(u Unpacker) Tally {
	u.Str() // the id
	x := Tally{A: u.SymNum(), B: u.SymNum(), At: u.UnixNano()}
	x.Flag = u.Uint()&1 != 0
	return x
}

// A device's record: the id, then when it was first seen (deviceTally).
func packDevice(p *Packer, d *domain.Device) {
	p.Str(d.ID)
	p.Time(d.FirstSeenAt)
	packPerson(p, &d.User)
	p.Sym(d.Name)
	p.Sym(d.Platform)
	p.Uint(flags(d.Trusted))
	p.OptTime(d.TrustedAt)
	p.Time(d.LastSeenAt)
	p.Text(d.LastIP)
	p.Time(d.UpdatedAt)
}

func unpackDevice(u Unpacker, d *domain.Device) {
	*d = domain.Device{ID: u.Str(), FirstSeenAt: u.Time(), User: unpackPerson(&u), Name: u.Sym(), Platform: u.Sym(),
		Trusted: u.Uint()&1 != 0, TrustedAt: u.OptTime(), LastSeenAt: u.Time(), LastIP: u.Text(), UpdatedAt: u.Time()}
}

// deviceTally is what the overview reads of a device: when it was first
// seen.
func deviceTally(u Unpacker) Tally {
	u.Str() // the id
	return Tally{At: u.UnixNano()}
}

// A person is one symbol: at a million sessions, three were ~6 bytes a
// row more.
func packPerson(p *Packer, x *domain.Person) { p.Sym3(x.ID, x.Email, x.Name) }

func unpackPerson(u *Unpacker) domain.Person {
	id, email, name := u.Sym3()
	return domain.Person{ID: id, Email: email, Name: name}
}

// flags is bs as bits, the first lowest.
func flags(bs ...bool) uint64 {
	var f uint64
	for i, b := range bs {
		if b {
			f |= 1 << i
		}
	}
	return f
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

// CountActive returns how many sessions of t are active at now
// (ActiveFacet), by CountAfter: a session's facet holds its expiry.
func CountActive(t *Table[domain.Session], now int64) int {
	return t.CountAfter("active", func(f Key) bool { return f.Str == domain.StatusActive }, now)
}

// TrustedFacet reports, from a device's facet, whether it is trusted.
func TrustedFacet(f Key) bool { return f.Num == 1 }

func timeKey(t time.Time) Key { return Key{Num: t.UnixNano()} }

// textKey orders text without regard to case, and blank text (a session
// whose place is not known, a device without a name) after all other text
// (see blankNum).
func textKey(s string) Key {
	if strings.TrimSpace(s) == "" {
		return Key{Num: blankNum}
	}
	return Key{Str: strings.ToLower(s)}
}

func boolSortKey(b bool) Key {
	if b {
		return Key{Num: 1}
	}
	return Key{}
}

// ipKey orders addresses numerically (IPv4 before IPv6); unparsable text
// sorts after both, by its text, and no address after that (see blankNum).
func ipKey(s string) Key {
	if strings.TrimSpace(s) == "" {
		return Key{Num: blankNum}
	}
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
