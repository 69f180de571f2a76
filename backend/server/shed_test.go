package server_test

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/server"
	"sessiondesk/backend/store"
)

// slowStore is the real SQLite store behind a slow disk: every list read
// takes at least delay more.
type slowStore struct {
	store.Store
	delay time.Duration
}

func (s slowStore) ListSessions(ctx context.Context, org string, f store.SessionFilter) (store.Page[store.Session], error) {
	time.Sleep(s.delay)
	return s.Store.ListSessions(ctx, org, f)
}

// TestLoadShedding floods the list route with more concurrent slow requests
// than its class serves and queues: the excess is answered at once with 503
// unavailable and Retry-After, the served ones wait at most the queue bound
// plus their own time, and /healthz and sign-in (other classes) still answer
// quickly meanwhile.
func TestLoadShedding(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := p.Login(t, "acme", "admin@acme.test")
	const delay = 200 * time.Millisecond
	const maxWait = 300 * time.Millisecond
	slow := platformtest.Start(t, platformtest.Options{Store: slowStore{p.Store(), delay}, Seed: "none",
		Shed: server.ShedConfig{Reads: server.ClassLimit{Concurrent: 2, Queue: 4}, MaxWait: maxWait, RetryAfter: 3 * time.Second}})

	const clients = 40
	type result struct {
		status     int
		code       string
		retryAfter string
		took       time.Duration
	}
	results := make([]result, clients)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(t, slow, admin.Token)
			<-start
			t0 := time.Now()
			res := c.do("GET", api.BasePath+"/sessions?limit=1000", nil)
			results[i] = result{res.status, res.errCode(), res.header.Get("Retry-After"), time.Since(t0)}
		}()
	}
	close(start)
	// While the reads are flooded, the other classes and healthz answer.
	time.Sleep(50 * time.Millisecond)
	hc := newClient(t, slow, "")
	t0 := time.Now()
	hc.do("GET", "/healthz", nil).decode(t, 200, nil)
	hc.do("POST", api.BasePath+"/auth/login", map[string]any{"org": "acme", "email": "auditor@acme.test", "password": platformtest.Password}).decode(t, 200, nil)
	// Had they waited in the reads' queue they would have been shed (a 503
	// fails decode above) or waited up to maxWait+delay.
	if took := time.Since(t0); took > maxWait+delay {
		t.Errorf("healthz and sign-in took %v while reads were flooded", took)
	}
	wg.Wait()

	var served []time.Duration
	shed := 0
	for _, r := range results {
		switch {
		case r.status == 200:
			served = append(served, r.took)
		case r.status == 503 && r.code == api.CodeUnavailable && r.retryAfter == "3":
			shed++
			if r.took > maxWait+delay {
				t.Errorf("a shed request took %v to be answered", r.took)
			}
		default:
			t.Errorf("answer %d %q Retry-After %q", r.status, r.code, r.retryAfter)
		}
	}
	sort.Slice(served, func(i, j int) bool { return served[i] < served[j] })
	t.Logf("%d served (slowest %v), %d shed", len(served), served[len(served)-1], shed)
	if len(served) < 2 || shed < clients/2 {
		t.Fatalf("%d served, %d shed of %d: want most shed and the slots used", len(served), shed, clients)
	}
	// Served: at most the queue wait plus its own time (and a little slack
	// for the race detector), never the time of everything ahead of it.
	if slowest := served[len(served)-1]; slowest > maxWait+delay+500*time.Millisecond {
		t.Errorf("slowest served request took %v, want under %v", slowest, maxWait+delay+500*time.Millisecond)
	}
	// After the flood, requests are served again.
	newClient(t, slow, admin.Token).do("GET", api.BasePath+"/sessions?limit="+strconv.Itoa(10), nil).decode(t, 200, nil)
}
