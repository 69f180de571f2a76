package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"sessiondesk/backend/api"
)

// benchShedding is platformd's "faults" row: many clients at once, each on
// its own connection, asking for 1000-row pages for a bounded time. It
// measures what load shedding promises: the requests that are served stay
// fast (p99), and the rest are refused at once with 503 and Retry-After
// (their share), which each client honours before asking again, like the
// app. Any other failure (a 500, a transport error, a 503 without
// Retry-After) fails the bench. Before shedding existed, 1,000 such clients
// pushed latency to 24.8 s with no 503 at all.
func benchShedding(ctx context.Context, cfg config, p *platformProc) ([]row, error) {
	admin := newAPIClient(p.URL, 1)
	if _, err := admin.login(ctx, cfg.slug, "admin@"+cfg.slug+".test"); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.faultFor)
	defer cancel()

	type tally struct {
		served       []time.Duration
		shed, failed int
		firstErr     error
	}
	tallies := make([]tally, cfg.faultClients)
	var wg sync.WaitGroup
	for i := range tallies {
		c := newAPIClient(p.URL, 1)
		c.token = admin.token
		wg.Add(1)
		go func(t *tally) {
			defer wg.Done()
			for ctx.Err() == nil {
				start := time.Now()
				res, err := c.get(ctx, api.BasePath+"/sessions?limit=1000")
				took := time.Since(start)
				if ctx.Err() != nil {
					return // the run ended mid-request: neither served nor shed
				}
				switch {
				case err != nil:
					t.failed++
					t.firstErr = cmp(t.firstErr, err)
					return
				case res.status == http.StatusOK:
					t.served = append(t.served, took)
				case res.status == http.StatusServiceUnavailable && res.retryAfter > 0:
					t.shed++
					select {
					case <-ctx.Done():
					case <-time.After(res.retryAfter):
					}
				default:
					t.failed++
					t.firstErr = cmp(t.firstErr, fmt.Errorf("HTTP %d (Retry-After %v)", res.status, res.retryAfter))
					return
				}
			}
		}(&tallies[i])
	}
	wg.Wait()

	var served []time.Duration
	shed, failed := 0, 0
	var firstErr error
	for _, t := range tallies {
		served = append(served, t.served...)
		shed += t.shed
		failed += t.failed
		firstErr = cmp(firstErr, t.firstErr)
	}
	total := len(served) + shed
	share := 0.0
	if total > 0 {
		share = 100 * float64(shed) / float64(total)
	}
	what := fmt.Sprintf("%d clients × %s, pages of 1000", cfg.faultClients, cfg.faultFor)
	rows := []row{
		{"faults", what + ": served / shed (503)", fmt.Sprintf("%d / %d (%.0f%% shed)", len(served), shed, share), "", "clients honour Retry-After"},
		{"faults", "served page p50 / p99", ms(median(served)) + " / " + ms(quantile(served, 0.99)), "p99 < 2 s", "max " + ms(quantile(served, 1))},
		{"faults", "other failures (5xx, transport)", fmt.Sprint(failed), "0", ""},
	}
	if failed > 0 {
		return rows, fmt.Errorf("load shedding: %d failures, first: %w", failed, firstErr)
	}
	if len(served) == 0 {
		return rows, errors.New("load shedding: nothing was served")
	}
	return rows, nil
}

func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// answer is what the load row needs of a response.
type answer struct {
	status     int
	retryAfter time.Duration
}

// get sends one GET and reads the whole body (a served page is only served
// once it has arrived).
func (c *apiClient) get(ctx context.Context, path string) (answer, error) {
	_, err := c.do(ctx, http.MethodGet, path, nil, nil)
	var se *statusError
	switch {
	case err == nil:
		return answer{status: http.StatusOK}, nil
	case errors.As(err, &se):
		a := answer{status: se.Status}
		if se.Status == http.StatusServiceUnavailable {
			a.retryAfter = se.RetryAfter
		}
		return a, nil
	default:
		return answer{}, err
	}
}

// retryAfterOf reads a Retry-After in seconds (0 when absent or malformed).
func retryAfterOf(h http.Header) time.Duration {
	n, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
