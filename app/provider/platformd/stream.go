package platformd

import (
	"context"
	"fmt"
	"net/http"

	"sessiondesk/backend/api"
)

// OpenEvents opens GET /api/v1/events (Server-Sent Events), resuming after
// lastEventID when it is not empty. A stream is long-lived, so it is sent
// once, without the retries and without the whole-request time limit of the
// other calls (the caller reconnects with its own backoff and watches for
// silence); it uses the client's transport, user agent and token. A non-2xx
// answer is returned as *Error (or *UnreachableError for 502/503/504, or
// when the platform cannot be reached). The caller closes the body.
func (c *Client) OpenEvents(ctx context.Context, lastEventID string) (*http.Response, error) {
	path := api.BasePath + "/events"
	u := *c.base
	u.Path = c.base.Path + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("platform: build GET %s: %w", path, err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	// Not through attemptTransport: it reads a whole body within an
	// attempt's limits, and a stream's body never ends. The caller (live.go)
	// tells a dead stream from a quiet one by its pings instead.
	rt := c.rc.HTTPClient.Transport
	if at, ok := rt.(*attemptTransport); ok {
		rt = at.base
	}
	hc := &http.Client{Transport: rt, CheckRedirect: c.rc.HTTPClient.CheckRedirect}
	c.log.Debug("platform request", "method", http.MethodGet, "path", path)
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("platform: GET %s: %w", path, ctx.Err())
		}
		return nil, &UnreachableError{Err: fmt.Errorf("GET %s: %w", path, scrub(err))}
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, c.decode(resp, http.MethodGet, path, nil)
	}
	return resp, nil
}
