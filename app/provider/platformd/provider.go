package platformd

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/provider"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/backend/api"
)

// Provider is platformd as the app's provider (provider.Provider): the
// Client's calls in domain types. Everything platformd can do, it offers.
type Provider struct {
	c *Client
}

// Connector is platformd at an address, before sign-in
// (provider.Connector).
type Connector struct {
	c *Client
}

var (
	_ provider.Provider  = (*Provider)(nil)
	_ provider.Connector = (*Connector)(nil)
)

// Dial returns a connector for the platform at baseURL (see New).
func Dial(baseURL string, opts httpx.Options) (*Connector, error) {
	c, err := New(baseURL, opts)
	if err != nil {
		return nil, err
	}
	return &Connector{c: c}, nil
}

// NewProvider is the provider over c (a client with its token).
func NewProvider(c *Client) *Provider { return &Provider{c: c} }

// Client is the provider's client (for tests and the bench, which speak
// the wire contract).
func (p *Provider) Client() *Client { return p.c }

// BaseURL is the platform's address, normalized.
func (cn *Connector) BaseURL() string { return cn.c.BaseURL() }

// SignIn signs in with the platform's password and second factor, telling
// it which device this is (see api.LoginDevice).
func (cn *Connector) SignIn(ctx context.Context, req provider.SignInRequest) (provider.SignedIn, error) {
	resp, err := cn.c.Login(ctx, api.LoginRequest{
		Org: req.Org, Email: req.Email, Password: req.Password,
		Device:      api.LoginDevice{ID: req.Device.ID, Name: req.Device.Name, Platform: req.Device.Platform, Secret: req.Device.Secret},
		TOTP:        req.TOTP,
		TrustDevice: req.TrustDevice,
	})
	if err != nil {
		return provider.SignedIn{}, err
	}
	return provider.SignedIn{Token: resp.Token, DeviceID: resp.Device.ID, DeviceTrusted: resp.Device.Trusted, DeviceSecret: resp.DeviceSecret}, nil
}

// WithToken is the provider for token.
func (cn *Connector) WithToken(token string) provider.Provider {
	return &Provider{c: cn.c.WithToken(token)}
}

// Close closes idle connections (shared with the derived providers).
func (cn *Connector) Close() { cn.c.CloseIdleConnections() }

// Capabilities: platformd does everything the app offers, keeps the audit
// log itself and pushes changes.
func (p *Provider) Capabilities() domain.Capabilities {
	return domain.Capabilities{EndSession: true, EndSelected: true, EndPerson: true, EndAll: true,
		RevokeDeviceTrust: true, Audit: domain.AuditPlatform, Updates: domain.UpdatesLive}
}

// Me tells who the token belongs to and what it may do.
func (p *Provider) Me(ctx context.Context) (domain.Me, error) {
	m, err := p.c.Me(ctx)
	if err != nil {
		return domain.Me{}, err
	}
	return meOf(m), nil
}

// The list pages of a sync are decoded straight into the domain types:
// a full sync reads 100 pages of 1,000 sessions, and mapping each page from
// the wire types cost 6 % more allocations and bytes per page
// (BenchmarkSessionsPage1000 against ...Wire). The wire and domain shapes
// agree field for field and name for name; TestWirePagesDecodeAsMapped
// proves it (every field set, decoded both ways, compared), so this is the
// explicit mapping's result without its copy.

// page is a list answer (api.SessionList and its kin) in domain types.
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func listPage[T any](ctx context.Context, c *Client, path string, q url.Values) (domain.Page[T], error) {
	var out page[T]
	if err := c.do(ctx, retryIdempotent, http.MethodGet, api.BasePath+path, q, nil, &out); err != nil {
		return domain.Page[T]{}, err
	}
	return domain.Page[T]{Items: out.Items, Next: next(out.NextCursor)}, nil
}

// Sessions reads one page of GET /sessions (the updated_since feed when
// r.Since is set).
func (p *Provider) Sessions(ctx context.Context, r domain.PageRequest) (domain.Page[domain.Session], error) {
	return listPage[domain.Session](ctx, p.c, "/sessions", ListParams{Limit: r.Limit, Cursor: r.Cursor, UpdatedSince: r.Since}.values())
}

// Devices reads one page of GET /devices.
func (p *Provider) Devices(ctx context.Context, r domain.PageRequest) (domain.Page[domain.Device], error) {
	return listPage[domain.Device](ctx, p.c, "/devices", ListParams{Limit: r.Limit, Cursor: r.Cursor, UpdatedSince: r.Since}.values())
}

// Audit reads one page of GET /audit, newest first.
func (p *Provider) Audit(ctx context.Context, r domain.PageRequest) (domain.Page[domain.AuditEvent], error) {
	return listPage[domain.AuditEvent](ctx, p.c, "/audit", ListParams{Limit: r.Limit, Cursor: r.Cursor}.values())
}

// EndSession terminates one session.
func (p *Provider) EndSession(ctx context.Context, id, reason string) (domain.Session, error) {
	s, err := p.c.TerminateSession(ctx, id, reason)
	if err != nil {
		return domain.Session{}, err
	}
	return sessionOf(&s), nil
}

// EndSessions terminates up to api.MaxSelected chosen sessions.
func (p *Provider) EndSessions(ctx context.Context, ids []string, reason string) (domain.Ended, error) {
	out, err := p.c.TerminateSelected(ctx, ids, reason)
	return domain.Ended{Terminated: out.Terminated, NotFound: out.NotFound}, err
}

// EndPersonSessions signs one person out everywhere.
func (p *Provider) EndPersonSessions(ctx context.Context, personID string, keepCurrent bool, reason string) (domain.Ended, error) {
	out, err := p.c.TerminateUserSessions(ctx, personID, keepCurrent, reason)
	return domain.Ended{Terminated: out.Terminated}, err
}

// EndAllSessions terminates the organization's sessions in one call; the
// platform does it in one step, so progress is told once, at the end.
func (p *Provider) EndAllSessions(ctx context.Context, keepCurrent bool, reason string, progress func(domain.Progress)) (domain.Ended, error) {
	out, err := p.c.TerminateAll(ctx, keepCurrent, reason)
	if err == nil && progress != nil {
		progress(domain.Progress{Done: out.Terminated, Total: out.Terminated})
	}
	return domain.Ended{Terminated: out.Terminated}, err
}

// UntrustDevice revokes a device's trust.
func (p *Provider) UntrustDevice(ctx context.Context, id, reason string) (domain.Device, error) {
	d, err := p.c.UntrustDevice(ctx, id, reason)
	if err != nil {
		return domain.Device{}, err
	}
	return deviceOf(&d), nil
}

// Watch holds the platform's event stream (see Stream).
func (p *Provider) Watch(ctx context.Context, t provider.LiveTarget, sessionEnded func()) {
	NewStream(StreamConfig{Client: p.c, Target: t, Log: p.c.Log(), SessionEnded: sessionEnded}).Run(ctx)
}

// SignOut ends the token's session on the platform.
func (p *Provider) SignOut(ctx context.Context) error { return p.c.Logout(ctx) }

// Close closes idle connections.
func (p *Provider) Close() { p.c.CloseIdleConnections() }

// Now is the platform's clock (see Client.Now).
func (p *Provider) Now() time.Time { return p.c.Now() }

// ClockOffset is the platform's clock minus this computer's, once known.
func (p *Provider) ClockOffset() (time.Duration, bool) { return p.c.ClockOffset() }

// SeedClockOffset starts from an offset of an earlier run.
func (p *Provider) SeedClockOffset(d time.Duration) { p.c.SeedClockOffset(d) }
