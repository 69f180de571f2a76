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
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := c.Open(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, c.decode(resp, http.MethodGet, path, nil)
	}
	return resp, nil
}
