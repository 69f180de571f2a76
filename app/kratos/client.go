// Package kratos is the desktop app's client for the admin API of Ory Kratos
// v1.3.x: list sessions with their people and devices, read one, end one,
// end all of a person's.
//
// Why a small typed client and not Ory's generated one. The Go proxy serves
// github.com/ory/client-go (v1.22.x) but not github.com/ory/kratos-client-go;
// client-go is generated for Ory Network (its README sends self-hosted users
// to the per-project SDKs), is 33 MB of source in 418 files for every Ory
// product, brings golang.org/x/oauth2, reads answers with an unbounded
// io.ReadAll, and takes only an *http.Client, so our retry policy and call
// budget would have to be rebuilt behind it and its errors translated. This
// package needs five operations and six types: they are written here from
// Kratos v1.3.1's own OpenAPI (spec/api.json in the kratos module: listSessions,
// getSession, disableSession, deleteIdentitySessions; the session,
// sessionDevice, identity and errorGeneric schemas), and every call goes
// through app/provider/httpx's Caller — the same retryablehttp transport, time
// limits, CA file, retry policy and error kinds as the platformd client.
//
// Authentication. Kratos' admin API has none of its own: it is meant to sit
// behind a network boundary or a proxy. An optional API key is sent as
// "Authorization: Bearer …" for such a proxy (or Ory Network); a 401 or 403
// therefore comes from that proxy, and the errors say so.
//
// Paging (see ListSessions). Kratos pages sessions by keyset, ordered by
// created_at descending then id, with a page token that carries the last
// session's created_at cut to 10 µs and without its time zone, and asks for
// "created_at < token, or equal with a greater id". A session created within
// the same 10 µs as a page's last one and ordered after it — an exact tie
// included — matches neither, and the next page skips it. Measured against a
// real Kratos on SQLite (kratos_test.go), where created_at is compared as
// text: 136 of 250 sessions skipped in pages of 7 when groups of up to 30
// share a created_at; by Kratos' query the same holds on PostgreSQL for ties
// off a 10 µs boundary. This client asks for the next page from the top of
// that 10 µs instead, and drops what it gave already.
//
// What a walk from the first page to the last then guarantees: every session
// that matched the filter throughout the walk comes exactly once, provided
// that no page says MayRepeat or MayHaveSkipped. MayRepeat (the previous
// page's last session left the list in between) may repeat sessions of that
// one 10 µs and skips nothing; MayHaveSkipped only comes with a token that
// is not Kratos v1.3's or with more than MaxPageSize sessions in one 10 µs.
// Sessions created during the walk sort before where it is and are not in
// it: a later read of the first page finds them.
package kratos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/provider/httpx"

	"github.com/hashicorp/go-retryablehttp"
)

// Options configure a Client.
type Options struct {
	// APIKey, when not empty, is sent as "Authorization: Bearer <APIKey>"
	// to a proxy in front of the admin API (Kratos checks none itself).
	APIKey string
	// HTTP tunes the transport, time limits, retries and CA file exactly as
	// for the platformd client (zero values take its defaults).
	HTTP httpx.Options
}

// MaxPageSize is the largest page Kratos serves: it cuts larger ones to
// 1000 without saying so.
const MaxPageSize = 1000

// Client calls one Kratos admin API. It is safe for concurrent use.
type Client struct {
	base   *url.URL
	apiKey string
	*httpx.Caller
}

// New returns a client for the admin API at adminURL (scheme, host, port
// and any path prefix, e.g. "https://kratos-admin.example.com" or
// "http://127.0.0.1:4434"). Plain http is accepted for a loopback host only,
// as for platformd: the API key must not cross a network in clear text.
func New(adminURL string, opts Options) (*Client, error) {
	u, err := httpx.ParseServerURL(adminURL)
	if err != nil {
		return nil, &Error{Kind: KindInvalid, Err: err, Message: "The Kratos admin URL must look like https://host[:port], without credentials, query or fragment. " +
			"Plain http:// is allowed only for a Kratos on this computer (localhost, 127.0.0.1, ::1): elsewhere the API key would cross the network unencrypted."}
	}
	caller, err := httpx.NewCaller("kratos", opts.HTTP)
	if err != nil {
		var pe *domain.Error // the CA file: its message says what is wrong with it
		if errors.As(err, &pe) {
			return nil, &Error{Kind: KindInvalid, Message: pe.Message, Err: err}
		}
		return nil, err
	}
	return &Client{base: u, apiKey: opts.APIKey, Caller: caller}, nil
}

// BaseURL is the admin API's address as given to New (normalized).
func (c *Client) BaseURL() string { return c.base.String() }

// Session is one Kratos session with its person and devices expanded.
type Session struct {
	ID     string
	Active bool
	// AuthenticatedAt is when the last factor was given; IssuedAt when the
	// session was issued (Kratos does not publish created_at).
	AuthenticatedAt time.Time
	IssuedAt        time.Time
	ExpiresAt       time.Time
	// AAL is the authenticator assurance level: "aal1" one factor, "aal2"
	// two (MFA), "aal3"; "" when Kratos gave none.
	AAL      string
	Identity Identity
	// Devices are where the session was used, oldest first as Kratos keeps
	// them.
	Devices []Device
}

// Identity is the session's person. Email and Name come from the traits of
// the identity schema: traits.email, and traits.name as a string or as
// {first, last} (Ory's preset schema); "" when the schema has neither.
type Identity struct {
	ID    string
	Email string
	Name  string
}

// Device is one place a session was used from.
type Device struct {
	// IPAddress is the client's address. Kratos records the connection's
	// "host:port" when no proxy header named the client; the port is
	// dropped here.
	IPAddress string
	UserAgent string
	// Location is what a Cloudflare proxy told Kratos ("City, CC"); "" when
	// none did.
	Location string
}

// ActiveFilter chooses which sessions ListSessions returns.
type ActiveFilter int

const (
	AllSessions      ActiveFilter = iota // active and inactive
	ActiveSessions                       // active and not expired
	InactiveSessions                     // revoked or expired
)

// ListOptions is one request of ListSessions.
type ListOptions struct {
	PageToken string // "" for the first page; else a Page.NextPageToken
	// PageSize is 1..MaxPageSize; 0 takes Kratos' default (250). A page
	// holds at most PageSize sessions, except when more than that share
	// one 10 µs: the page then holds all of them (see ListSessions).
	PageSize int
	Active   ActiveFilter
}

// Page is one answer of ListSessions.
type Page struct {
	Sessions []Session
	// NextPageToken asks for the following page; "" on the last one.
	NextPageToken string
	// Total is Kratos' X-Total-Count: how many sessions match the filter
	// right now (all pages); -1 when the answer did not say.
	Total int64
	// MayHaveSkipped is true when this page was read with Kratos' own token
	// (which skips sessions created within the same 10 µs as the previous
	// page's last one and ordered after it) because the client could not
	// do better: the token was not Kratos v1.3's, Kratos refused the one
	// made here, or more than MaxPageSize sessions share that 10 µs. A walk
	// that saw it can compare what it holds with Total, or walk again.
	MayHaveSkipped bool
	// MayRepeat is true when the previous page's last session had left the
	// list in between (ended under ActiveSessions, expired, or deleted), so
	// that nothing told which sessions of its 10 µs were given already: the
	// page starts at the top of that 10 µs, and sessions created within the
	// same 10 µs before it may come a second time. Nothing is skipped.
	MayRepeat bool
}

// wireSession is Kratos' session schema (spec/api.json "session").
type wireSession struct {
	ID              string    `json:"id"`
	Active          bool      `json:"active"`
	AuthenticatedAt time.Time `json:"authenticated_at"`
	IssuedAt        time.Time `json:"issued_at"`
	ExpiresAt       time.Time `json:"expires_at"`
	AAL             string    `json:"authenticator_assurance_level"`
	Identity        *struct {
		ID     string          `json:"id"`
		Traits json.RawMessage `json:"traits"`
	} `json:"identity"`
	Devices []struct {
		IPAddress *string `json:"ip_address"`
		UserAgent *string `json:"user_agent"`
		Location  *string `json:"location"`
	} `json:"devices"`
}

func (w wireSession) session() Session {
	s := Session{
		ID:              w.ID,
		Active:          w.Active,
		AuthenticatedAt: w.AuthenticatedAt,
		IssuedAt:        w.IssuedAt,
		ExpiresAt:       w.ExpiresAt,
		AAL:             w.AAL,
	}
	if w.Identity != nil {
		s.Identity.ID = w.Identity.ID
		s.Identity.Email, s.Identity.Name = traits(w.Identity.Traits)
	}
	for _, d := range w.Devices {
		s.Devices = append(s.Devices, Device{IPAddress: hostOnly(deref(d.IPAddress)), UserAgent: deref(d.UserAgent), Location: deref(d.Location)})
	}
	return s
}

// traits reads email and name from an identity's traits, whatever else the
// deployment's schema holds.
func traits(raw json.RawMessage) (email, name string) {
	var t struct {
		Email json.RawMessage `json:"email"`
		Name  json.RawMessage `json:"name"`
	}
	if json.Unmarshal(raw, &t) != nil {
		return "", ""
	}
	_ = json.Unmarshal(t.Email, &email)
	if json.Unmarshal(t.Name, &name) != nil {
		var parts struct {
			First string `json:"first"`
			Last  string `json:"last"`
		}
		_ = json.Unmarshal(t.Name, &parts)
		name = strings.TrimSpace(parts.First + " " + parts.Last)
	}
	return email, name
}

func hostOnly(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host) != nil {
		return host
	}
	return addr
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// expandAll asks for the session's person and devices.
var expandAll = url.Values{"expand": {"identity", "devices"}}

// ListSessions reads one page of GET /admin/sessions with people and
// devices, newest first.
//
// Given the NextPageToken of a page whose last session is L, it does not
// send that token as is (see the package comment): it asks from the top of
// L's 10 µs instead and drops every session up to and including L, which it
// finds in the answer. Those are exactly the ones already given: sessions
// keep their place in Kratos' order (created_at never changes, and new ones
// come first), so the answer's sessions before L were on earlier pages and
// the ones after L were not. A page can therefore hold fewer than PageSize
// sessions while more follow. When L's 10 µs alone fills the answer, it is
// asked again larger, up to MaxPageSize. When L has left the list in
// between, the answer is given whole from the top of L's 10 µs (see
// Page.MayRepeat): a repeat rather than a skip.
func (c *Client) ListSessions(ctx context.Context, opts ListOptions) (Page, error) {
	if opts.PageSize < 0 || opts.PageSize > MaxPageSize {
		return Page{}, &Error{Kind: KindInvalid, Message: fmt.Sprintf("A page holds 1 to %d sessions, not %d.", MaxPageSize, opts.PageSize)}
	}
	if opts.PageToken == "" {
		return c.listPage(ctx, opts, "")
	}
	tok, ok := parsePageToken(opts.PageToken)
	if !ok {
		p, err := c.listPage(ctx, opts, opts.PageToken)
		p.MayHaveSkipped = true
		return p, err
	}
	size := opts.PageSize
	if size == 0 {
		size = kratosDefaultPageSize
	}
	for {
		p, err := c.listPage(ctx, ListOptions{PageSize: size, Active: opts.Active}, tok.bucketTop())
		if err != nil {
			if KindOf(err) == KindInvalid {
				break // a Kratos that refuses the token made here: use its own
			}
			return Page{}, err
		}
		at := -1
		for i, s := range p.Sessions {
			if s.ID == tok.id {
				at = i
				break
			}
		}
		last, _ := parsePageToken(p.NextPageToken)
		if p.NextPageToken != "" && last.createdAt.Equal(tok.createdAt) {
			// The answer ends inside L's 10 µs: L, or what follows it,
			// may lie beyond. Ask for more at once.
			if size >= MaxPageSize {
				break
			}
			size = min(2*size, MaxPageSize)
			continue
		}
		if at < 0 {
			p.MayRepeat = true // L left the list: give all of its 10 µs
			return p, nil
		}
		p.Sessions = p.Sessions[at+1:]
		return p, nil
	}
	p, err := c.listPage(ctx, opts, opts.PageToken)
	p.MayHaveSkipped = true
	return p, err
}

// kratosDefaultPageSize is Kratos' page size when none is asked for.
const kratosDefaultPageSize = 250

// listPage is one GET /admin/sessions; token is sent as given.
func (c *Client) listPage(ctx context.Context, opts ListOptions, token string) (Page, error) {
	q := url.Values{"expand": expandAll["expand"]}
	if opts.PageSize > 0 {
		q.Set("page_size", strconv.Itoa(opts.PageSize))
	}
	if token != "" {
		q.Set("page_token", token)
	}
	switch opts.Active {
	case ActiveSessions:
		q.Set("active", "true")
	case InactiveSessions:
		q.Set("active", "false")
	}
	var wire []wireSession
	resp, err := c.do(ctx, http.MethodGet, "/admin/sessions", q, &wire, notFoundAPI)
	if err != nil {
		return Page{}, err
	}
	p := Page{Total: -1, NextPageToken: nextPageToken(resp.Header.Values("Link"))}
	if n, err := strconv.ParseInt(resp.Header.Get("X-Total-Count"), 10, 64); err == nil {
		p.Total = n
	}
	p.Sessions = sessionsOf(wire)
	return p, nil
}

// GetSession reads one session with its person and devices.
func (c *Client) GetSession(ctx context.Context, id string) (Session, error) {
	if err := checkID("session", id); err != nil {
		return Session{}, err
	}
	var w wireSession
	if _, err := c.do(ctx, http.MethodGet, "/admin/sessions/"+id, expandAll, &w, notFoundSession(id)); err != nil {
		return Session{}, err
	}
	return w.session(), nil
}

// RevokeSession ends one session (DELETE /admin/sessions/{id}): Kratos
// marks it inactive and keeps it, so it stays in the list as inactive. It
// is retried like a read: ending an ended session changes nothing. A session
// that does not exist (never did, or was deleted with its person's
// sessions) is a KindNotFound error.
func (c *Client) RevokeSession(ctx context.Context, id string) error {
	if err := checkID("session", id); err != nil {
		return err
	}
	_, err := c.do(ctx, http.MethodDelete, "/admin/sessions/"+id, nil, nil, notFoundSession(id))
	return err
}

// RevokeIdentitySessions ends every session of one person (DELETE
// /admin/identities/{id}/sessions). Kratos DELETES them, active or not:
// they leave the list altogether. Kratos answers 404 when it found none to
// delete — an unknown person, one without sessions, or a retry after a
// first attempt whose answer was lost — and all of these leave the person
// with no session, which is what was asked, so 404 is success here.
func (c *Client) RevokeIdentitySessions(ctx context.Context, identityID string) error {
	if err := checkID("person", identityID); err != nil {
		return err
	}
	_, err := c.do(ctx, http.MethodDelete, "/admin/identities/"+identityID+"/sessions", nil, nil, nil)
	var ke *Error
	if errors.As(err, &ke) && ke.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// checkID refuses what is not a UUID before it reaches a URL path.
func checkID(what, id string) error {
	if !isUUID(id) {
		return &Error{Kind: KindInvalid, Message: fmt.Sprintf("%q is not a Kratos %s ID (a UUID).", truncate(id, 64), what)}
	}
	return nil
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// do sends one call through the Caller and decodes its JSON answer into
// out. Every call here is idempotent. notFound words a 404 for this call.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, out any, notFound func(*Client) string) (*http.Response, error) {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = q.Encode()
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("kratos: build %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.Send(ctx, req, true)
	if err != nil {
		return nil, c.transportError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return nil, c.statusError(resp, notFound)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return nil, &Error{Kind: KindServer, Status: resp.StatusCode, Message: fmt.Sprintf("The Kratos admin API at %s gave an answer to %s %s that is not Kratos' JSON: %v.", c.base.Host, method, path, err)}
		}
	}
	return resp, nil
}
