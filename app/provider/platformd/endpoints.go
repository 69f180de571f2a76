package platformd

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"sessiondesk/app/provider/httpx"
	"sessiondesk/backend/api"
)

// Healthz checks that the platform answers at all (no authentication).
func (c *Client) Healthz(ctx context.Context) error {
	return c.do(ctx, retryIdempotent, http.MethodGet, "/healthz", nil, nil, nil)
}

// Login signs in. It is retried only when the connection was refused.
func (c *Client) Login(ctx context.Context, req api.LoginRequest) (api.LoginResponse, error) {
	var out api.LoginResponse
	err := c.do(ctx, retryRefusedOnly, http.MethodPost, api.BasePath+"/auth/login", nil, req, &out)
	return out, err
}

// Logout ends the caller's own session. Ending an ended session is harmless,
// so it is retried like a read.
func (c *Client) Logout(ctx context.Context) error {
	return c.do(ctx, retryIdempotent, http.MethodPost, api.BasePath+"/auth/logout", nil, nil, nil)
}

// Me tells who the token belongs to and what it may do.
func (c *Client) Me(ctx context.Context) (api.Me, error) {
	var out api.Me
	err := c.do(ctx, retryIdempotent, http.MethodGet, api.BasePath+"/me", nil, nil, &out)
	return out, err
}

// ListParams are the query of the list endpoints. Zero values are omitted.
type ListParams struct {
	Status       string // sessions: "active" | "all"
	Trusted      string // devices: "true" | "false"
	UserID       string
	Q            string
	Limit        int
	Cursor       string
	UpdatedSince time.Time
}

func (p ListParams) values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("status", p.Status)
	set("trusted", p.Trusted)
	set("user_id", p.UserID)
	set("q", p.Q)
	set("cursor", p.Cursor)
	if p.Limit > 0 {
		v.Set("limit", strconv.Itoa(p.Limit))
	}
	if !p.UpdatedSince.IsZero() {
		v.Set("updated_since", p.UpdatedSince.UTC().Format(time.RFC3339Nano))
	}
	return v
}

// ListSessions returns one page of sessions.
func (c *Client) ListSessions(ctx context.Context, p ListParams) (api.SessionList, error) {
	var out api.SessionList
	err := c.do(ctx, retryIdempotent, http.MethodGet, api.BasePath+"/sessions", p.values(), nil, &out)
	return out, err
}

// ListDevices returns one page of devices.
func (c *Client) ListDevices(ctx context.Context, p ListParams) (api.DeviceList, error) {
	var out api.DeviceList
	err := c.do(ctx, retryIdempotent, http.MethodGet, api.BasePath+"/devices", p.values(), nil, &out)
	return out, err
}

// ListAudit returns one page of the audit log, newest first.
func (c *Client) ListAudit(ctx context.Context, limit int, cursor string) (api.AuditList, error) {
	var out api.AuditList
	err := c.do(ctx, retryIdempotent, http.MethodGet, api.BasePath+"/audit", ListParams{Limit: limit, Cursor: cursor}.values(), nil, &out)
	return out, err
}

// TerminateSession ends one session. The platform answers an already ended
// session unchanged, so the call is retried.
func (c *Client) TerminateSession(ctx context.Context, id, reason string) (api.Session, error) {
	var out api.Session
	err := c.do(ctx, retryIdempotent, http.MethodPost, api.BasePath+"/sessions/"+url.PathEscape(id)+"/terminate", nil, api.ReasonRequest{Reason: reason}, &out)
	return out, err
}

// TerminateAllAnswerWithin is how long terminate-all's answer may take: a
// million sessions took the platform 15-30 s (docs/bench.md), several times
// that on a loaded machine, against the 10 s any other answer gets.
const TerminateAllAnswerWithin = 2 * time.Minute

// TerminateAll ends every session of the caller's organization (keeping the
// caller's own when keepCurrent). A repeat finds nothing left to end, so the
// call is retried. The platform answers once every session has ended, so
// the answer may take TerminateAllAnswerWithin.
func (c *Client) TerminateAll(ctx context.Context, keepCurrent bool, reason string) (api.TerminateAllResponse, error) {
	var out api.TerminateAllResponse
	ctx = httpx.WithAnswerWithin(ctx, TerminateAllAnswerWithin)
	err := c.do(ctx, retryIdempotent, http.MethodPost, api.BasePath+"/sessions/terminate-all", nil, api.TerminateAllRequest{KeepCurrent: &keepCurrent, Reason: reason}, &out)
	return out, err
}

// UntrustDevice revokes a device's trust (idempotent on the platform).
func (c *Client) UntrustDevice(ctx context.Context, id, reason string) (api.Device, error) {
	var out api.Device
	err := c.do(ctx, retryIdempotent, http.MethodPost, api.BasePath+"/devices/"+url.PathEscape(id)+"/untrust", nil, api.ReasonRequest{Reason: reason}, &out)
	return out, err
}
