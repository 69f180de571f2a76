package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"sessiondesk/backend/api"
)

// benchCrossReplica times a change made through one platformd replica until
// it arrives on an event stream held on another replica of the same
// PostgreSQL database: the path the contract bounds at 1 s (the writer's
// LISTEN/NOTIFY wakes the other replica, which reads the store's change
// order). n terminations, each timed from just before the request to the
// stream's event for that session.
func benchCrossReplica(ctx context.Context, cfg config, cluster *pgCluster, n int) ([]row, error) {
	db, err := cluster.create(ctx, "replicas", "")
	if err != nil {
		return nil, err
	}
	if _, err := seedLarge(ctx, cfg.platformd, db, liveSlug, max(2000, n+10), 400); err != nil {
		return nil, err
	}
	a, err := startPlatform(ctx, cfg.platformd, db)
	if err != nil {
		return nil, err
	}
	defer a.stop()
	b, err := startPlatform(ctx, cfg.platformd, db)
	if err != nil {
		return nil, err
	}
	defer b.stop()

	writer := newAPIClient(a.URL, 2)
	me, err := writer.login(ctx, liveSlug, "admin@"+liveSlug+".test")
	if err != nil {
		return nil, err
	}
	victims, err := victimsOf(ctx, writer, me.User.ID, n)
	if err != nil {
		return nil, err
	}
	if len(victims) < n {
		return nil, fmt.Errorf("cross-replica bench: %d active sessions, want %d", len(victims), n)
	}

	// The stream on replica B, with a token of its own.
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	arrived, err := terminatedEvents(streamCtx, b, n)
	if err != nil {
		return nil, err
	}
	lat := make([]time.Duration, 0, n)
	for _, id := range victims {
		start := time.Now()
		if _, err := writer.do(ctx, http.MethodPost, api.BasePath+"/sessions/"+id+"/terminate", map[string]string{"reason": "sdbench"}, nil); err != nil {
			return nil, err
		}
		if err := awaitEvent(arrived, id); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(start))
	}
	fmt.Fprintf(os.Stderr, "cross-replica: %d terminations timed\n", len(lat))
	return []row{{"live", fmt.Sprintf("terminate on replica A → event on replica B's stream (PostgreSQL), p50 / p99"),
		ms(median(lat)) + " / " + ms(quantile(lat, 0.99)), "p99 < 1 s", fmt.Sprintf("%d terminations, from the request to the event", len(lat))}}, nil
}

// terminatedEvents opens an event stream on replica b (with a token of its
// own) and returns, once it is open, the data of every terminated-session
// event it brings, until ctx ends. The stream is open once its first
// (id-only) block has arrived.
func terminatedEvents(ctx context.Context, b *platformProc, n int) (<-chan string, error) {
	reader := newAPIClient(b.URL, 1)
	if _, err := reader.login(ctx, liveSlug, "admin@"+liveSlug+".test"); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.URL+api.BasePath+"/events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+reader.token)
	res, err := (&http.Client{}).Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return nil, fmt.Errorf("cross-replica bench: GET /events on replica B: HTTP %d", res.StatusCode)
	}
	arrived := make(chan string, n*4)
	opened := make(chan struct{})
	go func() {
		defer res.Body.Close()
		first := true
		sseBlocks(res.Body, func(_, event, data string) {
			if first {
				first = false
				close(opened)
			}
			if event == "session" && strings.Contains(data, `"status":"terminated"`) {
				arrived <- data
			}
		})
		close(arrived)
	}()
	select {
	case <-opened:
		return arrived, nil
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("cross-replica bench: the stream on replica B did not open")
	}
}

// awaitEvent waits up to 5 s for session id's terminated event.
func awaitEvent(arrived <-chan string, id string) error {
	deadline := time.After(5 * time.Second)
	for {
		select {
		case data, ok := <-arrived:
			if !ok {
				return fmt.Errorf("cross-replica bench: the stream on replica B ended")
			}
			if strings.Contains(data, `"id":"`+id+`"`) {
				return nil
			}
		case <-deadline:
			return fmt.Errorf("cross-replica bench: session %s terminated on replica A never reached replica B's stream within 5 s", id)
		}
	}
}
