// Package seed fills a store with demonstration data.
//
// Demo builds the two organizations of the contract (acme "Acme Health" and
// globex "Globex Clinic") with the named users of the contract's demo seed and a few
// dozen generated people per organization, their devices (some trusted) and
// a few hundred sessions (varied browsers, operating systems, IPs from the
// documentation ranges, locations, some expired and some terminated). The
// data is generated from a fixed math/rand seed relative to the given "now",
// so counts and statuses are the same on every run; only IDs of sessions'
// tokens come from crypto/rand, because a token derivable from this source
// code would be a token anyone could use.
//
// Large builds one organization with N active sessions and M devices for
// benchmarks. Both write everything in one transaction (Store.BulkLoad) and
// hash the shared password once: bcrypt per user would take minutes.
package seed

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"sessiondesk/backend/store"
	"sessiondesk/backend/useragent"
)

// DemoPassword is the password of every seeded user.
const DemoPassword = "demo-password"

// MFASecret is the TOTP secret (base32) of mfa@acme.test.
const MFASecret = "JBSWY3DPEHPK3PXP"

// Demo shape: generated users and sessions per organization.
const (
	demoAcmeGenerated   = 60
	demoGlobexGenerated = 30
	demoAcmeSessions    = 320
	demoGlobexSessions  = 160
)

// Stats counts what a seed wrote.
type Stats struct {
	Orgs     int
	Users    int
	Devices  int
	Sessions int
	// Per organization slug: sessions by status at the seed's now, and
	// trusted devices.
	Active     map[string]int
	Expired    map[string]int
	Terminated map[string]int
	Trusted    map[string]int
}

func newStats() Stats {
	return Stats{Active: map[string]int{}, Expired: map[string]int{}, Terminated: map[string]int{}, Trusted: map[string]int{}}
}

// builder accumulates one BulkLoad.
type builder struct {
	rnd   *mrand.Rand
	ids   *mrand.ChaCha8
	now   time.Time
	hash  []byte
	bulk  store.Bulk
	stats Stats
	// devicesOf lists a user's devices with the user agent each one sends.
	devicesOf map[string][]seedDevice
	taken     map[string]bool
}

type seedDevice struct {
	id string
	ua string
}

func newBuilder(seed uint64, now time.Time, hash []byte) *builder {
	var key [32]byte
	for i := range 8 {
		key[i] = byte(seed >> (8 * i))
	}
	return &builder{
		rnd:       mrand.New(mrand.NewPCG(seed, seed^0x5eed)),
		ids:       mrand.NewChaCha8(key),
		now:       now.UTC(),
		hash:      hash,
		stats:     newStats(),
		devicesOf: map[string][]seedDevice{},
		taken:     map[string]bool{},
	}
}

// load writes what was built, the sessions in ID order, which is the order
// they began (see store.NewSessionID), as a live platform's tables hold
// them. Left in the random order they were generated in, a terminate-all of
// the seed would measure a table no live platform has.
func (b *builder) load(ctx context.Context, st store.Store) error {
	slices.SortStableFunc(b.bulk.Sessions, func(x, y store.BulkSession) int {
		return strings.Compare(x.Session.ID, y.Session.ID)
	})
	return st.BulkLoad(ctx, b.bulk)
}

func (b *builder) id(prefix string) string { return store.NewIDFrom(b.ids, prefix) }

func (b *builder) org(slug, name string) store.Org {
	o := store.Org{ID: b.id(store.PrefixOrg), Slug: slug, Name: name, CreatedAt: b.now.Add(-400 * 24 * time.Hour)}
	b.bulk.Orgs = append(b.bulk.Orgs, o)
	b.stats.Orgs++
	return o
}

func (b *builder) user(org store.Org, email, name, role, totp string) store.User {
	u := store.NewUser{ID: b.id(store.PrefixUser), OrgID: org.ID, Email: email, Name: name, Role: role,
		PasswordHash: b.hash, TOTPSecret: totp}
	b.bulk.Users = append(b.bulk.Users, u)
	b.stats.Users++
	b.taken[email] = true
	return store.User{ID: u.ID, OrgID: org.ID, Email: email, Name: name, Role: role}
}

func (b *builder) generatedUser(org store.Org, domain string) store.User {
	first := firstNames[b.rnd.IntN(len(firstNames))]
	last := lastNames[b.rnd.IntN(len(lastNames))]
	base := strings.ToLower(asciiOnly(first) + "." + asciiOnly(last))
	email := base + "@" + domain
	for n := 2; b.taken[email]; n++ {
		email = fmt.Sprintf("%s%d@%s", base, n, domain)
	}
	role := store.RoleMember
	if b.rnd.IntN(12) == 0 {
		role = store.RoleAuditor
	}
	return b.user(org, email, first+" "+last, role, "")
}

// device adds a device for u first seen at first; trusted devices were
// trusted some time after they were first seen.
func (b *builder) device(org store.Org, u store.User, trusted bool, first time.Time) seedDevice {
	ua := userAgents[b.rnd.IntN(len(userAgents))]
	info := useragent.Parse(ua)
	d := store.Device{ID: b.id(store.PrefixDevice), OrgID: org.ID, User: u, Name: info.DeviceName(), Platform: info.OS,
		FirstSeenAt: first, LastSeenAt: first, LastIP: b.ip()}
	if trusted {
		t := first.Add(time.Duration(b.rnd.IntN(3600)) * time.Second)
		d.TrustedAt = &t
		// The hash of a device secret nobody was ever given (crypto/rand,
		// not the seed's deterministic source): seeded devices show as
		// trusted, but no login can skip TOTP with them.
		var secret [32]byte
		rand.Read(secret[:])
		h := sha256.Sum256(secret[:])
		d.TrustSecretHash = h[:]
		b.stats.Trusted[org.Slug]++
	}
	b.bulk.Devices = append(b.bulk.Devices, d)
	b.stats.Devices++
	sd := seedDevice{id: d.ID, ua: ua}
	b.devicesOf[u.ID] = append(b.devicesOf[u.ID], sd)
	return sd
}

func (b *builder) ip() string { return IP(b.rnd) }

func (b *builder) location() string {
	return locations[b.rnd.IntN(len(locations))]
}

func tokenHash() ([]byte, error) {
	var tok [32]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("seed: random token: %w", err)
	}
	h := sha256.Sum256(tok[:])
	return h[:], nil
}

// Session outcomes for demo sessions.
const (
	outActive = iota
	outExpired
	outTerminated
)

// session adds a session of u on dev (dev.id may be "") with the given
// outcome at b.now; terminator is who ended a terminated one.
func (b *builder) session(org store.Org, u store.User, dev seedDevice, outcome int, mfa bool, terminator store.User) error {
	const idle = 12 * time.Hour
	const absolute = 7 * 24 * time.Hour
	sec := func(max time.Duration) time.Duration {
		return time.Duration(b.rnd.Int64N(int64(max/time.Second))) * time.Second
	}
	var created, last time.Time
	switch outcome {
	case outExpired:
		// Idle too long: last activity 12h-6d ago.
		created = b.now.Add(-6*24*time.Hour - sec(24*time.Hour))
		last = b.now.Add(-idle - time.Minute - sec(5*24*time.Hour))
		if last.Before(created) {
			last = created.Add(sec(idle))
		}
	default:
		created = b.now.Add(-time.Minute - sec(6*24*time.Hour))
		last = b.now.Add(-sec(min(10*time.Hour, b.now.Sub(created))))
	}
	abs := created.Add(absolute)
	exp := last.Add(idle)
	if abs.Before(exp) {
		exp = abs
	}
	ua := dev.ua
	if ua == "" {
		ua = userAgents[b.rnd.IntN(len(userAgents))]
	}
	h, err := tokenHash()
	if err != nil {
		return err
	}
	s := store.Session{ID: store.NewSessionIDFrom(b.ids, created), OrgID: org.ID, User: u, DeviceID: dev.id, IP: b.ip(),
		UserAgent: ua, Client: useragent.Parse(ua).Label(), Location: b.location(), MFA: mfa,
		CreatedAt: created, LastActiveAt: last, ExpiresAt: exp, AbsoluteExpiresAt: abs}
	if outcome == outTerminated {
		t := last.Add(sec(b.now.Sub(last) + time.Second))
		if t.After(b.now) {
			t = b.now
		}
		s.TerminatedAt = &t
		tb := terminator
		s.TerminatedBy = &tb
	}
	b.bulk.Sessions = append(b.bulk.Sessions, store.BulkSession{Session: s, TokenHash: h})
	b.stats.Sessions++
	switch s.Status(b.now) {
	case store.StatusActive:
		b.stats.Active[org.Slug]++
	case store.StatusExpired:
		b.stats.Expired[org.Slug]++
	default:
		b.stats.Terminated[org.Slug]++
	}
	return nil
}

// Demo seeds the demo organizations. It refuses a store that holds data.
// now anchors every generated time; pass the server's clock.
func Demo(ctx context.Context, st store.Store, now time.Time) (Stats, error) {
	return DemoWithHash(ctx, st, now, nil)
}

// DemoWithHash is Demo with a given bcrypt hash of DemoPassword for every
// user (nil hashes it at the default cost). Test helpers pass a cheap one.
func DemoWithHash(ctx context.Context, st store.Store, now time.Time, hash []byte) (Stats, error) {
	empty, err := st.IsEmpty(ctx)
	if err != nil {
		return Stats{}, fmt.Errorf("seed: %w", err)
	}
	if !empty {
		return Stats{}, fmt.Errorf("seed: the database already holds data; seeding needs an empty database")
	}
	if hash == nil {
		if hash, err = store.HashPassword(DemoPassword, 0); err != nil {
			return Stats{}, err
		}
	}
	b := newBuilder(20261127, now, hash)

	acme := b.org("acme", "Acme Health")
	admin := b.user(acme, "admin@acme.test", "Ada Admin", store.RoleSecurityAdmin, "")
	auditor := b.user(acme, "auditor@acme.test", "Aude Auditor", store.RoleAuditor, "")
	member := b.user(acme, "member@acme.test", "Max Member", store.RoleMember, "")
	mfa := b.user(acme, "mfa@acme.test", "Mia Factor", store.RoleMember, MFASecret)
	globex := b.org("globex", "Globex Clinic")
	gadmin := b.user(globex, "admin@globex.test", "Gabe Admin", store.RoleSecurityAdmin, "")

	// The named users' own sessions, on devices of their own.
	named := []struct {
		u       store.User
		n       int
		trusted bool
		mfa     bool
	}{{admin, 2, false, false}, {auditor, 1, false, false}, {member, 1, false, false}, {mfa, 1, true, true}, {gadmin, 1, false, false}}
	for _, x := range named {
		org := acme
		if x.u.OrgID == globex.ID {
			org = globex
		}
		for range x.n {
			d := b.device(org, x.u, x.trusted, b.now.Add(-time.Duration(10+b.rnd.IntN(60))*24*time.Hour))
			if err := b.session(org, x.u, d, outActive, x.mfa, x.u); err != nil {
				return Stats{}, err
			}
		}
	}

	if err := b.generatedOrg(acme, "acme.test", demoAcmeGenerated, demoAcmeSessions, admin); err != nil {
		return Stats{}, err
	}
	if err := b.generatedOrg(globex, "globex.test", demoGlobexGenerated, demoGlobexSessions, gadmin); err != nil {
		return Stats{}, err
	}
	if err := b.load(ctx, st); err != nil {
		return Stats{}, fmt.Errorf("seed: demo: %w", err)
	}
	return b.stats, nil
}

// generatedOrg adds generated users to a demo organization, each with one
// to three devices, and then sessions of random users among them: mostly
// active, some expired or terminated (by the user or by admin).
func (b *builder) generatedOrg(org store.Org, domain string, generated, sessions int, admin store.User) error {
	users := make([]store.User, 0, generated)
	for range generated {
		u := b.generatedUser(org, domain)
		users = append(users, u)
		for range 1 + b.rnd.IntN(3) {
			b.device(org, u, b.rnd.IntN(10) < 3, b.now.Add(-time.Duration(1+b.rnd.IntN(90*24))*time.Hour))
		}
	}
	for range sessions {
		u := users[b.rnd.IntN(len(users))]
		devs := b.devicesOf[u.ID]
		var d seedDevice
		if b.rnd.IntN(20) != 0 { // a few sessions predate device tracking
			d = devs[b.rnd.IntN(len(devs))]
		}
		outcome := outActive
		switch r := b.rnd.IntN(100); {
		case r < 12:
			outcome = outExpired
		case r < 25:
			outcome = outTerminated
		}
		terminator := u
		if b.rnd.IntN(2) == 0 {
			terminator = admin
		}
		if err := b.session(org, u, d, outcome, b.rnd.IntN(4) == 0, terminator); err != nil {
			return err
		}
	}
	return nil
}

// LargeOptions shapes a large organization.
type LargeOptions struct {
	Slug     string
	Name     string // defaults to the slug
	Sessions int    // active sessions
	Devices  int
	// PasswordHash of every user; nil hashes DemoPassword (one bcrypt).
	PasswordHash []byte
}

// Large seeds one organization with many active sessions and devices, and
// an admin (admin@<slug>.test, security_admin, demo-password) to sign in
// with. Users are one per four devices.
func Large(ctx context.Context, st store.Store, now time.Time, o LargeOptions) (Stats, error) {
	if o.Slug == "" || o.Sessions < 0 || o.Devices < 0 {
		return Stats{}, fmt.Errorf("seed: large: a slug and non-negative counts are needed")
	}
	if _, err := st.OrgBySlug(ctx, o.Slug); err == nil {
		return Stats{}, fmt.Errorf("seed: large: organization %q already exists", o.Slug)
	} else if !store.IsNotFound(err) {
		return Stats{}, fmt.Errorf("seed: large: %w", err)
	}
	if o.Name == "" {
		o.Name = o.Slug
	}
	hash := o.PasswordHash
	if hash == nil {
		var err error
		if hash, err = store.HashPassword(DemoPassword, 0); err != nil {
			return Stats{}, err
		}
	}
	b := newBuilder(uint64(len(o.Slug))*7919+uint64(o.Sessions), now, hash)
	domain := o.Slug + ".test"
	org := b.org(o.Slug, o.Name)
	admin := b.user(org, "admin@"+domain, "Org Admin", store.RoleSecurityAdmin, "")
	nUsers := max(1, o.Devices/4)
	users := make([]store.User, 0, nUsers)
	for i := range nUsers {
		first := firstNames[b.rnd.IntN(len(firstNames))]
		last := lastNames[b.rnd.IntN(len(lastNames))]
		users = append(users, b.user(org, fmt.Sprintf("user%06d@%s", i, domain), first+" "+last, store.RoleMember, ""))
	}
	for i := range o.Devices {
		u := users[i%len(users)]
		b.device(org, u, b.rnd.IntN(10) < 3, now.Add(-time.Duration(1+b.rnd.IntN(90*24))*time.Hour))
	}
	b.bulk.Sessions = make([]store.BulkSession, 0, o.Sessions)
	for range o.Sessions {
		u := users[b.rnd.IntN(len(users))]
		var d seedDevice
		if devs := b.devicesOf[u.ID]; len(devs) > 0 {
			d = devs[b.rnd.IntN(len(devs))]
		}
		if err := b.session(org, u, d, outActive, b.rnd.IntN(4) == 0, admin); err != nil {
			return Stats{}, err
		}
	}
	if err := b.load(ctx, st); err != nil {
		return Stats{}, fmt.Errorf("seed: large: %w", err)
	}
	return b.stats, nil
}

func asciiOnly(s string) string {
	r := strings.NewReplacer("é", "e", "è", "e", "ü", "u", "ö", "o", "ä", "a", "ñ", "n", "ç", "c", "ã", "a", "í", "i", "ó", "o", "á", "a", "ø", "o", "ł", "l")
	return r.Replace(s)
}

var (
	firstNames = []string{"Amara", "Ben", "Chiara", "Dmitri", "Elif", "Farah", "Gustavo", "Hana", "Ingrid", "João",
		"Kwame", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tomás", "Uma", "Viktor",
		"Wen", "Ximena", "Yusuf", "Zoë", "Aiko", "Bruno", "Camille", "Diego", "Emma", "Felix", "Grace", "Hugo",
		"Isabel", "Jonas", "Keira", "Luca", "Maya", "Noah", "Olivia", "Pablo", "Rania", "Sofia", "Theo", "Valentina"}
	lastNames = []string{"Almeida", "Becker", "Castro", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ivanova",
		"Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Schmidt",
		"Tanaka", "Usman", "Varga", "Weber", "Xu", "Yilmaz", "Zimmermann", "Andersen", "Bianchi", "Costa", "Novak",
		"Ortiz", "Patel", "Silva", "Müller", "Nowak", "Horvat"}
	locations = []string{"Berlin, DE", "Lisbon, PT", "Austin, US", "Toronto, CA", "Dublin, IE", "Madrid, ES",
		"Warsaw, PL", "Amsterdam, NL", "Porto, PT", "Munich, DE", "Chicago, US", "Seattle, US", "London, GB",
		"Lyon, FR", "Vienna, AT", "Zurich, CH", "Oslo, NO", "Tallinn, EE", "", "", ""}
	userAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:132.0) Gecko/20100101 Firefox/132.0",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
		"SessionsDesk/1.0 (Linux x86_64)",
		"SessionsDesk/1.0 (Windows NT 10.0)",
	}
)
