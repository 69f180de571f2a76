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
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"sessiondesk/app/domain"
	admin "sessiondesk/app/kratos"
	"sessiondesk/app/provider"
	"sessiondesk/app/provider/httpx"
)

// FullWalkEvery is how often Watch asks for a full walk (see the package
// comment); the seam holds the value, since the app's polling note says it.
const FullWalkEvery = provider.FullWalkEvery

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

// Watch: Kratos has no event stream. It tells the syncer it polls, and
// asks for a full walk at once and every FullWalkEvery (see the package
// comment); the syncer's interval brings the deltas.
func (p *Provider) Watch(ctx context.Context, t provider.LiveTarget, sessionEnded func()) {
	t.SetLive(false, provider.PollKratos)
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
