// Package kratos is Ory Kratos (v1.3.x admin API) as the app's provider
// (provider.Provider and provider.Connector), over the typed admin client
// app/kratos. It maps Kratos' sessions to the app's domain and makes up in
// the app what Kratos does not have.
//
// What maps directly. A session's person is its identity (name and e-mail
// from the traits); its IP, user agent and location are those of its newest
// device entry (Kratos appends one per place the session was used from); the
// client label ("Firefox 133 on Windows") is read from the user agent by
// backend/useragent, the same labeller platformd uses (a standard-library
// package, which the seam rule lets the app import); MFA is AAL2 or more.
// Kratos publishes no created_at and tracks no activity: started is the
// session's issued_at, last active its authenticated_at (the last time a
// factor was given).
//
// What the app makes up, and how far it can be trusted:
//   - Devices. Kratos has none: a device here is one person's distinct
//     browser + OS (from the user agent), first seen at its oldest
//     session, last seen at its newest, with that session's IP. Kratos has
//     no device trust, so nothing is trusted and "Revoke trust" is not a
//     capability.
//   - What changed. Kratos has no change feed and no updated_at. The
//     provider remembers what it gave (in memory, per run) and stamps a
//     session's UpdatedAt with Kratos' clock when it first sees it changed
//     (an active session keeps its issued_at, so a restarted app does not
//     see everything as changed). A delta (PageRequest.Since after the
//     epoch) reads the newest sessions first and stops at the first page
//     that holds one it knows: new sessions — and the new-device
//     notifications they raise — arrive on the next poll. Changes to older
//     sessions made elsewhere (ended by another admin or by the person,
//     deleted) are not seen by a delta: Watch asks for a full walk every
//     FullWalkEvery (and at start), which replaces what the cache holds.
//     What this app itself ends it knows at once.
//   - A person's sessions. DELETE /admin/identities/{id}/sessions deletes
//     them (they leave Kratos' list, active or not); the provider keeps
//     them, as terminated, in what it answers until the app restarts, so
//     the lists and the audit agree with what was done.
//   - Audit. Kratos keeps none. The provider records each action taken
//     through it (who, what, reason, when, which sessions) and serves them
//     as the audit log; the syncer stores them in the sealed cache's audit
//     table as it does platformd's, so offline review shows them.
//     Capabilities.Audit says AuditWorkstation: the UI titles the tab
//     "Actions taken from this workstation". An action whose follow-up sync
//     never ran (the app killed in between) is not recorded.
//   - Ending all. Kratos has no organization-wide route: the provider walks
//     the active sessions and ends them with bounded concurrency,
//     reporting progress. Running it again ends what is left. With an
//     admin API key nobody is "signed in" to Kratos, so there is no own
//     session to keep: keepCurrent changes nothing.
//   - Who is signed in. There is no Kratos identity behind an admin key:
//     Me is the staff member the profile names, with every permission, since
//     the admin API grants everything to whoever can reach it.
package kratos

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"sessiondesk/app/domain"
	admin "sessiondesk/app/kratos"
	"sessiondesk/app/provider"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/backend/useragent"
)

// FullWalkEvery is how often Watch asks for a full walk, which is how the
// app learns of changes to sessions older than the newest it knows (see
// the package comment). A full walk of 100,000 sessions takes ~90 s.
const FullWalkEvery = 5 * time.Minute

// concurrency bounds the ends in flight for a chosen set or all sessions:
// enough to end 10,000 sessions in about a minute on a near Kratos, few
// enough not to crowd out its other users.
const concurrency = 4

// deltaPage is the page size of a delta's reads: the usual poll finds
// nothing new, and a page of 100 expanded sessions costs Kratos ~30 ms
// where one of 1,000 costs ten times as much.
const deltaPage = 100

// tokenPrefix marks what the keychain keeps for a Kratos profile: the
// API key ("" when none) behind it, so that a profile without a key still
// has a credential to keep and to forget.
const tokenPrefix = "kratos-admin:"

// Staff is the person at the app, as the profile names them: the admin API
// knows no one.
type Staff struct {
	Email string
	Name  string
}

// Options configure a Connector.
type Options struct {
	HTTP  httpx.Options
	Staff Staff
	Log   *slog.Logger
}

// Connector is a Kratos admin API at an address, before sign-in.
type Connector struct {
	url  string
	opts Options
	c    *admin.Client // without an API key: checks the address only
}

var (
	_ provider.Provider  = (*Provider)(nil)
	_ provider.Connector = (*Connector)(nil)
)

// Dial returns a connector for the admin API at adminURL.
func Dial(adminURL string, opts Options) (*Connector, error) {
	c, err := admin.New(adminURL, admin.Options{HTTP: opts.HTTP})
	if err != nil {
		return nil, domainError(err)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Connector{url: adminURL, opts: opts, c: c}, nil
}

// BaseURL is the admin API's address, normalized.
func (cn *Connector) BaseURL() string { return cn.c.BaseURL() }

// SignIn checks that the address is a Kratos admin API that lets the API
// key in (req.Password carries the key, "" for none) by reading one
// session, and returns the key as the credential to keep.
func (cn *Connector) SignIn(ctx context.Context, req provider.SignInRequest) (provider.SignedIn, error) {
	p := cn.withKey(req.Password)
	defer p.c.CloseIdleConnections()
	if _, err := p.c.ListSessions(ctx, admin.ListOptions{PageSize: 1}); err != nil {
		return provider.SignedIn{}, signInError(err)
	}
	return provider.SignedIn{Token: tokenPrefix + req.Password}, nil
}

// WithToken is the provider for a credential SignIn returned.
func (cn *Connector) WithToken(token string) provider.Provider {
	return cn.withKey(strings.TrimPrefix(token, tokenPrefix))
}

func (cn *Connector) withKey(key string) *Provider {
	c, err := admin.New(cn.url, admin.Options{APIKey: key, HTTP: cn.opts.HTTP})
	if err != nil { // Dial built one from the same address and options
		panic(fmt.Sprintf("kratos: a client Dial could build failed: %v", err))
	}
	return newProvider(c, cn.opts)
}

// Close releases idle connections.
func (cn *Connector) Close() { cn.c.CloseIdleConnections() }

// Provider is one Kratos admin API as the app's provider. It is safe for
// concurrent use.
type Provider struct {
	c     *admin.Client
	staff Staff
	log   *slog.Logger

	mu sync.Mutex
	// known is every session the provider has given, by id (see the
	// package comment: what changed).
	known map[string]*seen
	// gone are the sessions a person's sign-out deleted, kept as
	// terminated until the app restarts.
	gone map[string]domain.Session
	// dirty are sessions this app changed since the last delta gave them:
	// a delta stops at the newest known session and would not reach them.
	dirty map[string]bool
	// ended is when and by whom this app ended a session.
	ended map[string]time.Time
	// audit is this run's actions, newest first.
	audit []domain.AuditEvent
	// gave is what the provider last gave of each device.
	gave map[string]gaveDevice
	// walk counts full walks; a full walk's last page forgets what it did
	// not see (deleted in Kratos).
	walk int
}

type gaveDevice struct {
	fingerprint string
	updatedAt   time.Time
}

// seen is what the provider last gave of one session.
type seen struct {
	s           domain.Session
	fingerprint string
	walk        int
}

func newProvider(c *admin.Client, opts Options) *Provider {
	return &Provider{c: c, staff: opts.Staff, log: opts.Log,
		known: map[string]*seen{}, gone: map[string]domain.Session{}, ended: map[string]time.Time{}, dirty: map[string]bool{}, gave: map[string]gaveDevice{}}
}

// Capabilities: every end Kratos can do (all of them one by one), no device
// trust, the app's own log, polling.
func (p *Provider) Capabilities() domain.Capabilities {
	return domain.Capabilities{EndSession: true, EndSelected: true, EndPerson: true, EndAll: true,
		RevokeDeviceTrust: false, Audit: domain.AuditWorkstation, Updates: domain.UpdatesPolling}
}

// Me is the staff member the profile names, with every permission: the
// admin API lets whoever reaches it do everything. It reads one page to
// check that the admin API still lets the key in.
func (p *Provider) Me(ctx context.Context) (domain.Me, error) {
	if _, err := p.c.ListSessions(ctx, admin.ListOptions{PageSize: 1}); err != nil {
		return domain.Me{}, domainError(err)
	}
	return p.me(), nil
}

func (p *Provider) me() domain.Me {
	host := hostOf(p.c.BaseURL())
	return domain.Me{
		User: p.actor(),
		Org:  domain.Org{ID: "kratos:" + host, Slug: host, Name: "Ory Kratos at " + host},
		Permissions: []string{domain.PermSessionsView, domain.PermSessionsTerminateOrg,
			domain.PermDevicesRevokeTrust},
	}
}

func (p *Provider) actor() domain.Person {
	name := p.staff.Name
	if name == "" {
		name = p.staff.Email
	}
	return domain.Person{ID: "staff:" + strings.ToLower(p.staff.Email), Email: p.staff.Email, Name: name}
}

func hostOf(u string) string {
	if pu, err := url.Parse(u); err == nil && pu.Host != "" {
		return pu.Host
	}
	return u
}

// Sessions reads one page: a full walk when r.Since is the epoch (or
// zero), else a delta that stops at the first page holding a known session.
// The last page of either carries the sessions a person's sign-out deleted.
func (p *Provider) Sessions(ctx context.Context, r domain.PageRequest) (domain.Page[domain.Session], error) {
	full := r.Since.Unix() <= 0
	size := min(max(r.Limit, 1), admin.MaxPageSize)
	if !full {
		size = min(size, deltaPage)
	}
	p.mu.Lock()
	if full && r.Cursor == "" {
		p.walk++
	}
	walk := p.walk
	p.mu.Unlock()

	page, err := p.c.ListSessions(ctx, admin.ListOptions{PageToken: r.Cursor, PageSize: size})
	if err != nil {
		return domain.Page[domain.Session]{}, domainError(err)
	}
	if page.MayHaveSkipped {
		p.log.Warn("kratos: a page may have skipped sessions tied at its boundary; the next full walk finds them")
	}
	now := p.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	out := domain.Page[domain.Session]{Items: make([]domain.Session, 0, len(page.Sessions)), Next: page.NextPageToken}
	metKnown := false
	for _, ks := range page.Sessions {
		if _, ok := p.known[ks.ID]; ok {
			metKnown = true
		}
		out.Items = append(out.Items, p.remember(ks, now, walk))
		delete(p.dirty, ks.ID)
	}
	if !full && metKnown {
		out.Next = ""
	}
	if out.Next == "" {
		if full {
			for id, k := range p.known {
				if k.walk != walk { // not in Kratos' list any more
					delete(p.known, id)
				}
			}
		}
		for id := range p.dirty {
			if k, ok := p.known[id]; ok {
				out.Items = append(out.Items, k.s)
			}
		}
		clear(p.dirty)
		for _, s := range p.gone {
			out.Items = append(out.Items, s)
		}
	}
	return out, nil
}

// remember maps ks and stamps its UpdatedAt (see the package comment).
// The caller holds mu.
func (p *Provider) remember(ks admin.Session, now time.Time, walk int) domain.Session {
	s := p.session(ks, now)
	fp := fingerprint(ks)
	k, ok := p.known[ks.ID]
	switch {
	case ok && k.fingerprint == fp:
		s.UpdatedAt = k.s.UpdatedAt
	case ok:
		s.UpdatedAt = later(now, k.s.UpdatedAt)
	case s.Status == domain.StatusActive:
		s.UpdatedAt = s.CreatedAt
	default:
		// Seen ended for the first time: when it ended Kratos does not
		// say, so now — after whatever a cache of an earlier run holds.
		s.UpdatedAt = now
	}
	if !ok {
		k = &seen{}
		p.known[ks.ID] = k
	}
	k.s, k.fingerprint, k.walk = s, fp, walk
	return s
}

// later is now, or a microsecond after prev when the clock has not moved
// past it: a change must sort after the state it replaces.
func later(now, prev time.Time) time.Time {
	if now.After(prev) {
		return now
	}
	return prev.Add(time.Microsecond)
}

func fingerprint(ks admin.Session) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%t|%s|%s|%s|%d", ks.Active, ks.AAL, ks.ExpiresAt.UTC().Format(time.RFC3339Nano), ks.AuthenticatedAt.UTC().Format(time.RFC3339Nano), len(ks.Devices))
	if n := len(ks.Devices); n > 0 {
		d := ks.Devices[n-1]
		fmt.Fprintf(&b, "|%s|%s|%s", d.IPAddress, d.UserAgent, d.Location)
	}
	return b.String()
}

// session maps one Kratos session (without UpdatedAt).
func (p *Provider) session(ks admin.Session, now time.Time) domain.Session {
	s := domain.Session{
		ID:           ks.ID,
		User:         domain.Person{ID: ks.Identity.ID, Email: ks.Identity.Email, Name: ks.Identity.Name},
		CreatedAt:    ks.IssuedAt,
		LastActiveAt: ks.AuthenticatedAt,
		ExpiresAt:    ks.ExpiresAt,
		MFA:          ks.AAL == "aal2" || ks.AAL == "aal3",
		Status:       domain.StatusActive,
	}
	if s.LastActiveAt.Before(s.CreatedAt) {
		s.LastActiveAt = s.CreatedAt
	}
	if n := len(ks.Devices); n > 0 {
		d := ks.Devices[n-1]
		s.IP, s.UserAgent, s.Location = d.IPAddress, d.UserAgent, d.Location
	}
	ua := useragent.Parse(s.UserAgent)
	s.Client = ua.Label()
	dev := deviceID(ks.Identity.ID, ua.DeviceName())
	s.DeviceID = &dev
	if !ks.Active {
		s.Status = domain.StatusTerminated
		if !ks.ExpiresAt.IsZero() && !ks.ExpiresAt.After(now) {
			s.Status = domain.StatusExpired
		}
		if at, ok := p.ended[ks.ID]; ok {
			s.Status = domain.StatusTerminated
			by := p.actor()
			s.TerminatedAt, s.TerminatedBy = &at, &by
		}
	}
	return s
}

// deviceID names one person's browser + OS.
func deviceID(identity, name string) string {
	sum := sha256.Sum256([]byte(identity + "\x00" + name))
	return "kd-" + hex.EncodeToString(sum[:12])
}

// Devices derives the devices from the sessions the provider holds: the
// whole list for a full sync, else the ones changed since r.Since. One page.
func (p *Provider) Devices(ctx context.Context, r domain.PageRequest) (domain.Page[domain.Device], error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	byID := map[string]*domain.Device{}
	add := func(s domain.Session) {
		if s.DeviceID == nil {
			return
		}
		d, ok := byID[*s.DeviceID]
		if !ok {
			ua := useragent.Parse(s.UserAgent)
			d = &domain.Device{ID: *s.DeviceID, User: s.User, Name: ua.DeviceName(), Platform: ua.OS,
				FirstSeenAt: s.CreatedAt, LastSeenAt: s.LastActiveAt, LastIP: s.IP, UpdatedAt: s.UpdatedAt}
			byID[d.ID] = d
			return
		}
		if s.CreatedAt.Before(d.FirstSeenAt) {
			d.FirstSeenAt = s.CreatedAt
		}
		if s.LastActiveAt.After(d.LastSeenAt) {
			d.LastSeenAt, d.LastIP = s.LastActiveAt, s.IP
		}
		if s.UpdatedAt.After(d.UpdatedAt) {
			d.UpdatedAt = s.UpdatedAt
		}
	}
	for _, k := range p.known {
		add(k.s)
	}
	for _, s := range p.gone {
		add(s)
	}
	// A delta gives the devices that are new or changed since the
	// provider last gave them (not by r.Since: a device's sessions may be
	// older than the watermark another change pushed up).
	full := r.Since.Unix() <= 0
	out := make([]domain.Device, 0, len(byID))
	for id, d := range byID {
		fp := fmt.Sprintf("%s|%s|%s|%s|%s", d.User.Email, d.User.Name, d.FirstSeenAt.UTC(), d.LastSeenAt.UTC(), d.LastIP)
		prev, had := p.gave[id]
		if had && prev.fingerprint == fp {
			d.UpdatedAt = prev.updatedAt
			if !full {
				continue
			}
		} else if had && !d.UpdatedAt.After(prev.updatedAt) {
			d.UpdatedAt = prev.updatedAt.Add(time.Microsecond)
		}
		p.gave[id] = gaveDevice{fingerprint: fp, updatedAt: d.UpdatedAt}
		out = append(out, *d)
	}
	return domain.Page[domain.Device]{Items: out}, nil
}

// Audit serves the actions taken through this provider in this run,
// newest first (the cache keeps earlier runs'); the cursor is an offset.
func (p *Provider) Audit(ctx context.Context, r domain.PageRequest) (domain.Page[domain.AuditEvent], error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	from, _ := strconv.Atoi(r.Cursor)
	from = min(max(from, 0), len(p.audit))
	to := min(from+max(r.Limit, 1), len(p.audit))
	page := domain.Page[domain.AuditEvent]{Items: slices.Clone(p.audit[from:to])}
	if to < len(p.audit) {
		page.Next = strconv.Itoa(to)
	}
	return page, nil
}

// record notes an action in the provider's log.
func (p *Provider) record(e domain.AuditEvent) {
	e.ID = "ws-" + rand.Text() // 128 random bits: unique across runs and workstations
	// Like platformd's log, an event names at most the first MaxTargetIDs
	// sessions (Count says how many ended); the desk reads no more, and an
	// end-all of 100,000 would otherwise seal megabytes into one cache row.
	e.TargetIDs = e.TargetIDs[:min(len(e.TargetIDs), domain.MaxTargetIDs)]
	e.At = p.Now()
	e.Actor = p.actor()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.audit = append([]domain.AuditEvent{e}, p.audit...)
}

// EndSession ends one session (DELETE /admin/sessions/{id}) and reads it
// back as it now is.
func (p *Provider) EndSession(ctx context.Context, id, reason string) (domain.Session, error) {
	p.mu.Lock()
	k, wasKnown := p.known[id]
	wasActive := !wasKnown || k.s.Status == domain.StatusActive
	p.mu.Unlock()
	if err := p.c.RevokeSession(ctx, id); err != nil {
		return domain.Session{}, domainError(err)
	}
	now := p.Now()
	if wasActive {
		p.mu.Lock()
		p.ended[id] = now
		p.mu.Unlock()
	}
	ks, err := p.c.GetSession(ctx, id)
	if err != nil {
		return domain.Session{}, domainError(err)
	}
	p.mu.Lock()
	s := p.remember(ks, now, p.walkOf(id))
	p.dirty[id] = true
	p.mu.Unlock()
	if wasActive {
		tid, who := id, s.User
		p.record(domain.AuditEvent{Action: domain.ActionSessionTerminate, TargetID: &tid, TargetUser: &who,
			TargetLabel: s.Client, Count: 1, Reason: reason})
	}
	return s, nil
}

// walkOf is the walk a known session was last seen in (the current one for
// a new one). The caller holds mu.
func (p *Provider) walkOf(id string) int {
	if k, ok := p.known[id]; ok {
		return k.walk
	}
	return p.walk
}

// EndSessions ends the chosen sessions one by one, concurrency at a time.
// Terminated counts those that were active (as far as the provider knows);
// NotFound those Kratos has not.
func (p *Provider) EndSessions(ctx context.Context, ids []string, reason string) (domain.Ended, error) {
	if len(ids) > domain.MaxSelected {
		return domain.Ended{}, &domain.Error{Kind: domain.KindInvalid, Message: fmt.Sprintf("At most %d sessions at a time.", domain.MaxSelected)}
	}
	res, ended, err := p.endEach(ctx, ids, nil)
	if len(ended) > 0 {
		p.record(domain.AuditEvent{Action: domain.ActionSessionsTerminateSelected, TargetIDs: ended, Count: len(ended), Reason: reason})
	}
	return res, err
}

// endEach ends ids with bounded concurrency, reporting progress after
// each. It stops at the first failure other than "not found" and returns
// what it did so far with it.
func (p *Provider) endEach(ctx context.Context, ids []string, progress func(domain.Progress)) (domain.Ended, []string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		id  string
		err error
	}
	work := make(chan string)
	results := make(chan result)
	var wg sync.WaitGroup
	for range min(concurrency, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				results <- result{id, p.c.RevokeSession(ctx, id)}
			}
		}()
	}
	go func() {
		defer close(work)
		for _, id := range ids {
			select {
			case work <- id:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	var res domain.Ended
	var ended []string
	var firstErr error
	done := 0
	for r := range results {
		done++
		switch {
		case r.err == nil:
			now := p.Now()
			p.mu.Lock()
			k, ok := p.known[r.id]
			if !ok || k.s.Status == domain.StatusActive {
				res.Terminated++
				ended = append(ended, r.id)
				p.ended[r.id] = now
				if ok { // shown ended at once; the next read confirms it
					s := k.s
					by := p.actor()
					s.Status, s.TerminatedAt, s.TerminatedBy, s.UpdatedAt = domain.StatusTerminated, &now, &by, later(now, s.UpdatedAt)
					k.s = s
					p.dirty[r.id] = true
				}
			}
			p.mu.Unlock()
		case admin.KindOf(r.err) == admin.KindNotFound || admin.KindOf(r.err) == admin.KindInvalid:
			res.NotFound = append(res.NotFound, r.id)
		case firstErr == nil:
			firstErr = domainError(r.err)
			cancel()
		}
		if progress != nil {
			progress(domain.Progress{Done: done, Total: len(ids)})
		}
	}
	return res, ended, firstErr
}

// EndPersonSessions signs one person out everywhere (DELETE
// /admin/identities/{id}/sessions, which deletes their sessions). With an
// admin key there is no own session, so keepCurrent changes nothing.
func (p *Provider) EndPersonSessions(ctx context.Context, personID string, keepCurrent bool, reason string) (domain.Ended, error) {
	if err := p.c.RevokeIdentitySessions(ctx, personID); err != nil {
		return domain.Ended{}, domainError(err)
	}
	now := p.Now()
	p.mu.Lock()
	var ids []string
	var who *domain.Person
	for id, k := range p.known {
		if k.s.User.ID != personID {
			continue
		}
		s := k.s
		u := s.User
		who = &u
		if s.Status == domain.StatusActive {
			ids = append(ids, id)
			by := p.actor()
			s.Status, s.TerminatedAt, s.TerminatedBy = domain.StatusTerminated, &now, &by
		}
		s.UpdatedAt = later(now, s.UpdatedAt)
		p.gone[id] = s
		delete(p.known, id)
	}
	p.mu.Unlock()
	slices.Sort(ids)
	if len(ids) > 0 {
		label := ""
		if who != nil {
			label = who.Email
		}
		p.record(domain.AuditEvent{Action: domain.ActionUserSessionsTerminate, TargetID: &personID, TargetUser: who,
			TargetLabel: label, TargetIDs: ids, Count: len(ids), Reason: reason})
	}
	return domain.Ended{Terminated: len(ids)}, nil
}

// EndAllSessions walks the active sessions and ends them, concurrency at a
// time, reporting progress (Total is Kratos' count at the start). A failure
// stops it; running it again ends what is left. There is no own session to
// keep with an admin key.
func (p *Provider) EndAllSessions(ctx context.Context, keepCurrent bool, reason string, progress func(domain.Progress)) (domain.Ended, error) {
	var ids []string
	cursor := ""
	for {
		page, err := p.c.ListSessions(ctx, admin.ListOptions{PageToken: cursor, PageSize: admin.MaxPageSize, Active: admin.ActiveSessions})
		if err != nil {
			return domain.Ended{}, domainError(err)
		}
		for _, s := range page.Sessions {
			ids = append(ids, s.ID)
		}
		if page.NextPageToken == "" {
			break
		}
		cursor = page.NextPageToken
	}
	ids = uniq(ids) // a page may repeat (admin.Page.MayRepeat)
	if progress != nil {
		progress(domain.Progress{Total: len(ids)})
	}
	res, ended, err := p.endEach(ctx, ids, progress)
	if len(ended) > 0 {
		p.record(domain.AuditEvent{Action: domain.ActionSessionsTerminateAll, TargetIDs: ended, Count: len(ended), Reason: reason})
	}
	return res, err
}

func uniq(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// UntrustDevice: Kratos has no device trust.
func (p *Provider) UntrustDevice(ctx context.Context, id, reason string) (domain.Device, error) {
	return domain.Device{}, &domain.Error{Kind: domain.KindInvalid, Message: "Kratos has no device trust: there is no trust to revoke."}
}

// Watch: Kratos has no event stream. It tells the syncer it polls, and
// asks for a full walk at once and every FullWalkEvery (see the package
// comment); the syncer's interval brings the deltas.
func (p *Provider) Watch(ctx context.Context, t provider.LiveTarget, sessionEnded func()) {
	t.SetLive(false, "Kratos has no event stream: the app checks for new sessions on the sync interval, and reads every session every 5 minutes.")
	tick := time.NewTicker(FullWalkEvery)
	defer tick.Stop()
	for {
		if err := t.CatchUp(ctx, true); err != nil && ctx.Err() == nil {
			p.log.Info("kratos: full walk failed; the next one tries again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// SignOut: an admin key is not a session; nothing to end on Kratos.
func (p *Provider) SignOut(ctx context.Context) error { return nil }

// Close releases idle connections.
func (p *Provider) Close() { p.c.CloseIdleConnections() }

// Now is Kratos' clock as estimated from its answers.
func (p *Provider) Now() time.Time { return p.c.Now() }

// ClockOffset is Kratos' clock minus this computer's, once known.
func (p *Provider) ClockOffset() (time.Duration, bool) { return p.c.ClockOffset() }

// SeedClockOffset starts from an offset of an earlier run.
func (p *Provider) SeedClockOffset(d time.Duration) { p.c.SeedClockOffset(d) }

// domainError turns the admin client's errors into the app's kinds.
func domainError(err error) error {
	var ke *admin.Error
	if !errors.As(err, &ke) {
		return err
	}
	switch ke.Kind {
	case admin.KindUnreachable:
		var ue *domain.UnreachableError
		if errors.As(err, &ue) {
			return &domain.UnreachableError{Err: errors.New(ke.Message), Answered: ue.Answered}
		}
		return &domain.UnreachableError{Err: errors.New(ke.Message), Answered: true}
	case admin.KindCertificate:
		var ce *domain.CertificateError
		if errors.As(err, &ce) {
			return ce
		}
	}
	kind := map[admin.Kind]string{
		admin.KindUnauthorized: domain.KindUnauthenticated,
		admin.KindForbidden:    domain.KindPermissionDenied,
		admin.KindNotFound:     domain.KindNotFound,
		admin.KindInvalid:      domain.KindInvalid,
	}[ke.Kind]
	if kind == "" {
		kind = domain.KindInternal
	}
	return &domain.Error{Kind: kind, Message: ke.Message, Status: ke.Status}
}

// signInError is domainError with the form field it concerns.
func signInError(err error) error {
	err = domainError(err)
	var de *domain.Error
	if errors.As(err, &de) {
		switch de.Kind {
		case domain.KindUnauthenticated, domain.KindPermissionDenied:
			de.Field = "apiKey"
		default:
			de.Field = "server"
		}
	}
	return err
}
