package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"sessiondesk/backend/api"
)

// walkSessions follows next_cursor from the first page to the last and
// returns how many items it saw, failing on any repeat.
func walkSessions(ctx context.Context, c *apiClient, query url.Values) (int, error) {
	seen := make(map[string]struct{}, 1<<17)
	cursor := ""
	for {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page api.SessionList
		if _, err := c.do(ctx, http.MethodGet, api.BasePath+"/sessions?"+q.Encode(), nil, &page); err != nil {
			return len(seen), err
		}
		for _, s := range page.Items {
			if _, dup := seen[s.ID]; dup {
				return len(seen), fmt.Errorf("session %s returned twice while walking", s.ID)
			}
			seen[s.ID] = struct{}{}
		}
		if page.NextCursor == nil {
			return len(seen), nil
		}
		cursor = *page.NextCursor
	}
}

// benchPlatform measures the read paths of a running platformd holding the
// large organization: the first page, a walk over every page, and the delta
// feed with nothing new.
func benchPlatform(ctx context.Context, cfg config, p *platformProc) ([]row, error) {
	c := newAPIClient(p.URL, 4)
	if _, err := c.login(ctx, cfg.slug, "admin@"+cfg.slug+".test"); err != nil {
		return nil, err
	}
	var rows []row

	first, err := timeIt(cfg.samples, func() error {
		var page api.SessionList
		_, err := c.do(ctx, http.MethodGet, api.BasePath+"/sessions?limit=100", nil, &page)
		if err == nil && len(page.Items) != 100 {
			err = fmt.Errorf("first page holds %d sessions, want 100", len(page.Items))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("first page: %w", err)
	}
	rows = append(rows,
		row{"platformd", "first page (limit 100), p50", ms(median(first)), "< 5 ms", fmt.Sprintf("%d requests", len(first))},
		row{"platformd", "first page (limit 100), p99", ms(quantile(first, 0.99)), "", ""})

	want := cfg.sessions + 1 // the seeded sessions plus the bench's own
	walks, err := timeIt(cfg.runs, func() error {
		n, err := walkSessions(ctx, c, url.Values{"limit": {"1000"}})
		if err == nil && n != want {
			err = fmt.Errorf("walk saw %d active sessions, want %d", n, want)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("walk: %w", err)
	}
	rows = append(rows, row{"platformd", fmt.Sprintf("walk all %d sessions (limit 1000)", want), ms(median(walks)), targetsFor(cfg.sessions).walk, fmt.Sprintf("median of %d", len(walks))})

	since := time.Now().UTC().Format(time.RFC3339Nano)
	delta, err := timeIt(cfg.samples, func() error {
		var page api.SessionList
		_, err := c.do(ctx, http.MethodGet, api.BasePath+"/sessions?updated_since="+url.QueryEscape(since), nil, &page)
		if err == nil && len(page.Items) != 0 {
			err = fmt.Errorf("delta feed with nothing new returned %d sessions", len(page.Items))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delta feed: %w", err)
	}
	rows = append(rows, row{"platformd", "updated_since feed, nothing new, p50", ms(median(delta)), "", fmt.Sprintf("%d requests", len(delta))})
	return rows, nil
}

// benchTerminateAll ends every session of the large organization, once per
// run, each run on a fresh copy of the seeded database (fresh makes one).
func benchTerminateAll(ctx context.Context, cfg config, bin string, fresh func(name string) (string, error)) ([]row, error) {
	var runs []time.Duration
	for i := range cfg.runs {
		db, err := fresh(fmt.Sprintf("terminate_all_%d", i))
		if err != nil {
			return nil, err
		}
		p, err := startPlatform(ctx, bin, db)
		if err != nil {
			return nil, err
		}
		took, err := terminateAllOnce(ctx, cfg, p.URL)
		p.stop()
		if err != nil {
			return nil, fmt.Errorf("terminate-all: %w", err)
		}
		runs = append(runs, took)
	}
	return []row{{"platformd", fmt.Sprintf("terminate-all of %d sessions", cfg.sessions), ms(median(runs)), targetsFor(cfg.sessions).terminateAll,
		fmt.Sprintf("median of %d; ended token then 401", len(runs))}}, nil
}

// terminateAllOnce ends every session of the organization on the platformd
// at base but the caller's, and checks what a terminate-all promises: the
// count, the caller still signed in and alone, and an ended token refused
// (401) on its very next request. The ended token is a second sign-in of
// the bench (the seeded sessions' tokens were never kept), so the run ends
// the seeded sessions plus that one.
func terminateAllOnce(ctx context.Context, cfg config, base string) (time.Duration, error) {
	c, ended := newAPIClient(base, 1), newAPIClient(base, 1)
	for _, cl := range []*apiClient{ended, c} {
		if _, err := cl.login(ctx, cfg.slug, "admin@"+cfg.slug+".test"); err != nil {
			return 0, err
		}
	}
	var res api.TerminateAllResponse
	start := time.Now()
	_, err := c.do(ctx, http.MethodPost, api.BasePath+"/sessions/terminate-all", map[string]any{"keep_current": true, "reason": "bench"}, &res)
	took := time.Since(start)
	if err != nil {
		return took, err
	}
	if want := cfg.sessions + 1; res.Terminated != want {
		return took, fmt.Errorf("terminate-all ended %d sessions, want %d", res.Terminated, want)
	}
	var se *statusError
	if _, err := ended.do(ctx, http.MethodGet, api.BasePath+"/sessions?limit=1", nil, nil); !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		return took, fmt.Errorf("an ended token's next request: %v, want 401", err)
	}
	// Still signed in (keep_current), and nothing else is active.
	var page api.SessionList
	if _, err := c.do(ctx, http.MethodGet, api.BasePath+"/sessions?limit=10", nil, &page); err != nil {
		return took, err
	}
	if len(page.Items) != 1 {
		return took, fmt.Errorf("after terminate-all %d sessions are active, want only the caller's", len(page.Items))
	}
	return took, nil
}

// targets are the table's targets for platformd's rows at a size: issue
// 20's at a million sessions, the earlier ones up to 100,000.
type target struct{ seed, walk, terminateAll string }

func targetsFor(sessions int) target {
	if sessions > 100_000 {
		return target{seed: "< 5 min", walk: "< 30 s", terminateAll: "< 15 s"}
	}
	return target{seed: "< 60 s", walk: "< 3 s", terminateAll: "< 2 s"}
}
