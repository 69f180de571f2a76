package platformd

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"sessiondesk/backend/api"
)

// TerminateUserSessions signs one person out everywhere (v1.1). A repeat
// finds nothing left to end, so the call is retried like terminate-all.
func (c *Client) TerminateUserSessions(ctx context.Context, userID string, keepCurrent bool, reason string) (api.TerminateAllResponse, error) {
	var out api.TerminateAllResponse
	err := c.do(ctx, retryIdempotent, http.MethodPost, api.BasePath+"/users/"+url.PathEscape(userID)+"/sessions/terminate", nil,
		api.TerminateUserRequest{KeepCurrent: &keepCurrent, Reason: reason}, &out)
	return out, err
}

// TerminateSelected ends up to api.MaxSelected chosen sessions (v1.1). A
// repeat ends nothing more, so it is retried; its count then misses what the
// lost first attempt ended, which callers report as "at least".
func (c *Client) TerminateSelected(ctx context.Context, ids []string, reason string) (api.TerminateSelectedResponse, error) {
	var out api.TerminateSelectedResponse
	err := c.do(ctx, retryIdempotent, http.MethodPost, api.BasePath+"/sessions/terminate", nil,
		api.TerminateSelectedRequest{IDs: ids, Reason: reason}, &out)
	return out, err
}

// AuditParams are the v1.1 filters of the audit log. Zero values are omitted.
type AuditParams struct {
	Action       string
	ActorID      string
	TargetUserID string
	Q            string
	Limit        int
	Cursor       string
}

// ListAuditFiltered returns one page of the audit log matching p, newest
// first.
func (c *Client) ListAuditFiltered(ctx context.Context, p AuditParams) (api.AuditList, error) {
	v := url.Values{}
	for k, val := range map[string]string{"action": p.Action, "actor_id": p.ActorID, "target_user_id": p.TargetUserID, "q": p.Q, "cursor": p.Cursor} {
		if val != "" {
			v.Set(k, val)
		}
	}
	if p.Limit > 0 {
		v.Set("limit", strconv.Itoa(p.Limit))
	}
	var out api.AuditList
	err := c.do(ctx, retryIdempotent, http.MethodGet, api.BasePath+"/audit", v, nil, &out)
	return out, err
}
