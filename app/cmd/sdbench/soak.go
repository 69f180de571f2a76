package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"sessiondesk/backend/api"
)

// soakResult is what the soak saw across every client.
type soakResult struct {
	Requests   int
	ServerErrs int // 5xx answers
	OtherErrs  int // transport errors and unexpected 4xx
	P50, P99   time.Duration
	Terminated int // sessions the admin ended during the soak
	Lost       int // (client, session) pairs where a client never saw an ending
	Duplicated int // the same (session, updated_at) delivered twice to one client
}

// soakClient follows the delta feed like the app does and lists a page in
// between, keeping what it learned so the soak can check nothing was lost or
// delivered twice.
type soakClient struct {
	c          *apiClient
	since      string
	delivered  map[string]struct{} // id + "@" + updated_at
	terminated map[string]struct{}
	latencies  []time.Duration
	requests   int
	serverErrs int
	otherErrs  int
	dups       int
	firstErr   error
}

func (sc *soakClient) record(start time.Time, err error) {
	sc.requests++
	sc.latencies = append(sc.latencies, time.Since(start))
	if err == nil {
		return
	}
	var se *statusError
	if errors.As(err, &se) && se.Status >= 500 {
		sc.serverErrs++
	} else {
		sc.otherErrs++
	}
	if sc.firstErr == nil {
		sc.firstErr = err
	}
}

// catchUp walks the delta feed from the client's last position to its end.
func (sc *soakClient) catchUp(ctx context.Context) error {
	cursor, last := "", ""
	for {
		q := url.Values{"updated_since": {sc.since}, "limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page api.SessionList
		start := time.Now()
		_, err := sc.c.do(ctx, http.MethodGet, api.BasePath+"/sessions?"+q.Encode(), nil, &page)
		if err != nil && ctx.Err() != nil {
			return err // the soak's clock ran out mid-request: not a failure
		}
		sc.record(start, err)
		if err != nil {
			return err
		}
		for _, s := range page.Items {
			key := s.ID + "@" + s.UpdatedAt.Format(time.RFC3339Nano)
			if _, dup := sc.delivered[key]; dup {
				sc.dups++
			}
			sc.delivered[key] = struct{}{}
			if s.Status == api.StatusTerminated {
				sc.terminated[s.ID] = struct{}{}
			}
		}
		if n := len(page.Items); n > 0 {
			last = page.Items[n-1].UpdatedAt.Format(time.RFC3339Nano)
		}
		if page.NextCursor == nil {
			if last != "" {
				sc.since = last
			}
			return nil
		}
		cursor = *page.NextCursor
	}
}

// soak runs clients that poll the delta feed and list pages while one admin
// terminates sessions, for d. Every request goes to loopback; the loops stop
// at the deadline or on the first transport failure of a client.
//
// With several urls (replicas of one database) every client, the admin
// too, sends its requests to them in turn.
func soak(ctx context.Context, cfg config, urls []string, clients int, d time.Duration) (soakResult, error) {
	admin := newAPIClient(urls[0], 2)
	admin.alternate(urls)
	adminLogin, err := admin.login(ctx, cfg.slug, "admin@"+cfg.slug+".test")
	if err != nil {
		return soakResult{}, err
	}
	victims, err := soakVictims(ctx, admin, adminLogin.User.ID)
	if err != nil {
		return soakResult{}, err
	}
	start := time.Now().UTC().Format(time.RFC3339Nano)
	scs := make([]*soakClient, clients)
	for i := range scs {
		c := newAPIClient(urls[0], 2)
		c.alternate(urls)
		if _, err := c.login(ctx, cfg.slug, "admin@"+cfg.slug+".test"); err != nil {
			return soakResult{}, err
		}
		scs[i] = &soakClient{c: c, since: start, delivered: map[string]struct{}{}, terminated: map[string]struct{}{}}
	}

	runCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	for _, sc := range scs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc.run(runCtx)
		}()
	}
	ended, adminErr := terminateEach(runCtx, admin, victims)
	<-runCtx.Done()
	wg.Wait()
	if adminErr != nil {
		return soakResult{}, fmt.Errorf("admin terminate: %w", adminErr)
	}
	return soakTally(ctx, scs, ended)
}

// soakVictims lists the sessions the admin will end: seeded ones (up to
// 50,000), never a soak client's (the admin's own person, self).
func soakVictims(ctx context.Context, admin *apiClient, self string) ([]string, error) {
	var victims []string
	cursor := ""
	for len(victims) < 50000 {
		q := url.Values{"limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page api.SessionList
		if _, err := admin.do(ctx, http.MethodGet, api.BasePath+"/sessions?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		for _, s := range page.Items {
			if s.User.ID != self {
				victims = append(victims, s.ID)
			}
		}
		if page.NextCursor == nil {
			return victims, nil
		}
		cursor = *page.NextCursor
	}
	return victims, nil
}

// run catches up with the delta feed and lists a page, again and again,
// until ctx ends or a request fails.
func (sc *soakClient) run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := sc.catchUp(ctx); err != nil && ctx.Err() == nil {
			return
		}
		var page api.SessionList
		t := time.Now()
		_, err := sc.c.do(ctx, http.MethodGet, api.BasePath+"/sessions?limit=100", nil, &page)
		if ctx.Err() != nil {
			return
		}
		sc.record(t, err)
		if err != nil {
			return
		}
	}
}

// terminateEach has the admin end the victims one by one until ctx ends,
// and returns the ones ended (and an error that was not ctx's end).
func terminateEach(ctx context.Context, admin *apiClient, victims []string) ([]string, error) {
	var ended []string
	for _, id := range victims {
		if ctx.Err() != nil {
			break
		}
		if _, err := admin.do(ctx, http.MethodPost, api.BasePath+"/sessions/"+id+"/terminate", api.ReasonRequest{Reason: "soak"}, nil); err != nil {
			if ctx.Err() == nil {
				return ended, err
			}
			break
		}
		ended = append(ended, id)
		time.Sleep(2 * time.Millisecond) // a brisk human-with-a-script pace, not a flood
	}
	return ended, nil
}

// soakTally has every client catch up once more and checks that every
// ending is in every client's view.
func soakTally(ctx context.Context, scs []*soakClient, ended []string) (soakResult, error) {
	res := soakResult{Terminated: len(ended)}
	var all []time.Duration
	for _, sc := range scs {
		if err := sc.catchUp(ctx); err != nil {
			return res, fmt.Errorf("final catch-up: %w", err)
		}
		for _, id := range ended {
			if _, ok := sc.terminated[id]; !ok {
				res.Lost++
			}
		}
		res.Requests += sc.requests
		res.ServerErrs += sc.serverErrs
		res.OtherErrs += sc.otherErrs
		res.Duplicated += sc.dups
		all = append(all, sc.latencies...)
	}
	res.P50, res.P99 = median(all), quantile(all, 0.99)
	for _, sc := range scs {
		if sc.firstErr != nil {
			return res, fmt.Errorf("a soak client failed: %w", sc.firstErr)
		}
	}
	return res, nil
}
