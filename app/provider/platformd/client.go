// Package platformd is the app's provider (app/provider) for platformd: its
// client for Platform API v1.1 (the contract is backend/api/openapi.yaml),
// built on hashicorp/go-retryablehttp, its event stream (live.go), and the
// mapping of the wire types to the app's domain (map.go, provider.go). It is
// the only app package that imports backend/api (app/seam_test.go).
//
// Every call goes through httpx.Caller (app/provider/httpx: retries, time
// limits, the call budget, the CA file, the platform's clock, the errors of
// a call without an answer). Reads and the actions this platform makes
// idempotent (terminate a session, terminate all, untrust a device,
// logout) are sent as idempotent; sign-in is not (every success creates a
// session), so it is retried only when the connection was refused.
//
// Errors. A non-2xx answer becomes *Error (domain.Error) carrying the
// contract's code as its kind; a platform that cannot be reached
// (connection error, time budget spent, or 502/503/504 left after the
// retries) becomes *UnreachableError, which the app treats as offline.
package platformd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/hashicorp/go-retryablehttp"

	"sessiondesk/app/provider/httpx"
	"sessiondesk/backend/api"
)

// Whether a call may be retried after it may have reached the platform
// (see httpx.Caller.Send).
const (
	retryIdempotent  = true
	retryRefusedOnly = false
)

// Client calls one platform. It is safe for concurrent use. A Client without
// a token can only sign in and check health; WithToken derives one that
// authenticates.
type Client struct {
	base          *url.URL
	token         string
	*httpx.Caller // shared with every client derived by WithToken
}

// New returns a client for the platform at baseURL (scheme and host, e.g.
// "http://127.0.0.1:8080"; a path prefix is kept).
func New(baseURL string, opts httpx.Options) (*Client, error) {
	u, err := httpx.ParseServerURL(baseURL)
	if err != nil {
		return nil, err
	}
	caller, err := httpx.NewCaller("platform", opts)
	if err != nil {
		return nil, err
	}
	return &Client{base: u, Caller: caller}, nil
}

// WithToken returns a client that sends token as its bearer credential. The
// two share their connection pool.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.token = token
	return &cp
}

// BaseURL is the platform's address as given to New (normalized).
func (c *Client) BaseURL() string { return c.base.String() }

// do sends one call: method, path (relative to the base URL), optional query,
// JSON body and JSON answer.
func (c *Client) do(ctx context.Context, idempotent bool, method, path string, query url.Values, body, out any) error {
	u := *c.base
	u.Path = c.base.Path + path
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	var raw any
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("platform: encode %s %s: %w", method, path, err)
		}
		raw = b
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), raw)
	if err != nil {
		return fmt.Errorf("platform: build %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.Send(ctx, req, idempotent)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return c.decode(resp, method, path, out)
}

func (c *Client) decode(resp *http.Response, method, path string, out any) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, httpx.MaxResponseBytes))
	if err != nil {
		return &UnreachableError{Err: fmt.Errorf("%s %s: reading answer: %w", method, path, httpx.Scrub(err))}
	}
	if resp.StatusCode >= 300 {
		pe := &Error{Status: resp.StatusCode}
		var eb api.ErrorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
			pe.Kind, pe.Message = eb.Error.Code, eb.Error.Message
		} else {
			pe.Kind, pe.Message = codeForStatus(resp.StatusCode), http.StatusText(resp.StatusCode)
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			pe.RetryAfter, _ = httpx.RetryAfter(resp)
		}
		switch resp.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return &UnreachableError{Err: pe, Answered: resp.StatusCode == http.StatusServiceUnavailable}
		}
		return pe
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Status: resp.StatusCode, Kind: api.CodeInternal, Message: fmt.Sprintf("unreadable answer to %s %s: %v", method, path, err)}
	}
	return nil
}

func codeForStatus(status int) string {
	switch status {
	case 400:
		return api.CodeInvalidArgument
	case 401:
		return api.CodeUnauthenticated
	case 403:
		return api.CodePermissionDenied
	case 404:
		return api.CodeNotFound
	case 429:
		return api.CodeRateLimited
	case 502, 503, 504:
		return api.CodeUnavailable
	}
	return api.CodeInternal
}
