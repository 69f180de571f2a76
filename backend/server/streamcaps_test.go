package server_test

import (
	"context"
	"database/sql"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/store"
	"sessiondesk/backend/store/postgres"
	"sessiondesk/backend/store/postgres/pgtest"
	"sessiondesk/backend/store/sqlite"
)

// openEventsAt opens a stream on base and fails the test unless it is 200.
func openEventsAt(t testing.TB, base, token string) *sseStream {
	t.Helper()
	s, res := tryEvents(t, base, token, "", nil, true)
	if res.StatusCode != 200 {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("events on %s: status %d: %s", base, res.StatusCode, body)
	}
	return s
}

// refusedAt asserts that a stream on base is refused with want (429 or
// 503), Retry-After and a JSON error body; it returns the message.
func refusedAt(t testing.TB, base, token string, want int) string {
	t.Helper()
	_, res := tryEvents(t, base, token, "", nil, false)
	if res.StatusCode == 200 {
		t.Fatalf("stream on %s: 200 (a stream), want %d", base, want)
	}
	body, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, header: res.Header, body: body}
	wantCode := api.CodeRateLimited
	if want == 503 {
		wantCode = api.CodeUnavailable
	}
	if r.status != want || r.errCode() != wantCode || res.Header.Get("Retry-After") == "" {
		t.Fatalf("stream on %s: %d %s (Retry-After %q), want %d %s", base, r.status, body, res.Header.Get("Retry-After"), want, wantCode)
	}
	return string(body)
}

// openWithin retries a stream on base while it is refused with 429, until
// it opens or d has passed.
func openWithin(t testing.TB, base, token string, d time.Duration) *sseStream {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		s, res := tryEvents(t, base, token, "", nil, true)
		if res.StatusCode == 200 {
			return s
		}
		body, _ := io.ReadAll(res.Body)
		s.Close()
		if res.StatusCode != 429 || time.Now().After(deadline) {
			t.Fatalf("stream on %s: %d %s after %v", base, res.StatusCode, body, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// replicaBases serves each replica of p on its own listener: one with
// SQLite, two in the replica run.
func replicaBases(t testing.TB, p *platformtest.Platform) []string {
	var out []string
	for i := range p.Replicas() {
		srv := httptest.NewServer(p.Replica(i))
		t.Cleanup(srv.Close)
		out = append(out, srv.URL)
	}
	return out
}

// With the per-session cap C, C streams opened alternately on two replicas
// make the next one 429 on either replica; closing one on replica 0 frees a
// place on replica 1; the organization's cap counts both replicas too, and
// another organization's streams count apart.
func TestReplicasShareTheStreamCaps(t *testing.T) {
	const perSession, perOrg = 3, 5
	p, rs := replicaClients(t, platformtest.Options{Events: platformtest.EventsConfig{MaxPerSession: perSession, MaxPerOrg: perOrg}})
	admin := p.Login(t, "acme", "admin@acme.test")
	var held []*sseStream
	for i := range perSession {
		held = append(held, openEventsAt(t, rs[i%2].base, admin.Token))
	}
	for _, r := range rs {
		if msg := refusedAt(t, r.base, admin.Token, 429); !strings.Contains(msg, "session") {
			t.Errorf("refusal names another cap: %s", msg)
		}
	}

	// The default LeaseTTL (45 s) is far away: the place comes free by the
	// release when the stream closes, not by expiry.
	held[0].Close() // on replica 0
	began := time.Now()
	held[0] = openWithin(t, rs[1].base, admin.Token, 2*time.Second)
	t.Logf("a stream closed on replica 0 freed its place on replica 1 within %v", time.Since(began))
	for _, r := range rs {
		refusedAt(t, r.base, admin.Token, 429)
	}

	// The organization's cap: a second session fills it over both replicas.
	auditor := p.Login(t, "acme", "auditor@acme.test")
	for i := range perOrg - perSession {
		openEventsAt(t, rs[i%2].base, auditor.Token)
	}
	for _, r := range rs {
		if msg := refusedAt(t, r.base, auditor.Token, 429); !strings.Contains(msg, "organization") {
			t.Errorf("refusal names another cap: %s", msg)
		}
	}
	openEventsAt(t, rs[1].base, p.Login(t, "globex", "admin@globex.test").Token)
}

// Open streams' leases are renewed and keep counting long past their TTL;
// the leases of a process that died (taken in the store, then never renewed
// nor released) stop counting by themselves once their TTL has passed. It
// runs on SQLite and, in the replica run, over both replicas.
func TestStreamLeasesRenewAndExpire(t *testing.T) {
	const perSession = 2
	// Renewed every 400 ms: a renewal may come 800 ms late on a loaded
	// machine before a live stream stops counting.
	ttl := 1200 * time.Millisecond
	caps := store.StreamCaps{PerSession: perSession, PerUser: api.MaxStreamsPerUser, PerOrg: 100}
	p := platformtest.Start(t, platformtest.Options{Events: platformtest.EventsConfig{MaxPerSession: caps.PerSession, MaxPerOrg: caps.PerOrg, LeaseTTL: ttl}})
	bases := replicaBases(t, p)
	admin := p.Login(t, "acme", "admin@acme.test")
	for i := range perSession {
		openEventsAt(t, bases[i%len(bases)], admin.Token)
	}
	time.Sleep(3 * ttl) // only renewals keep them counting now
	for _, base := range bases {
		refusedAt(t, base, admin.Token, 429)
	}

	// A process that died holding the auditor's places.
	auditor := p.Login(t, "acme", "auditor@acme.test")
	now := time.Now()
	for range perSession {
		l := store.StreamLease{ID: store.NewID(store.PrefixStream), OrgID: orgID(t, p, "acme"), SessionID: auditor.Session.ID,
			UserID: auditor.User.ID}
		if full, err := p.Store().AcquireStream(context.Background(), l, caps, now, now.Add(ttl)); err != nil || full != "" {
			t.Fatalf("the dead process's lease: %q %v", full, err)
		}
	}
	for _, base := range bases {
		refusedAt(t, base, auditor.Token, 429)
	}
	openWithin(t, bases[len(bases)-1], auditor.Token, ttl+2*time.Second)
	if waited := time.Since(now); waited < ttl {
		t.Errorf("opened %v after the dead process's leases, before they expired (%v)", waited, ttl)
	}
}

// A stream the store cannot count (here its lease table is gone) is
// refused with 503 unavailable, never served uncounted; the same server
// opens streams again once the table is back. On both stores.
func TestStreamWithoutLeaseIs503(t *testing.T) {
	ctx := context.Background()
	run := func(t *testing.T, st store.Store, exec func(q string) error) {
		p := platformtest.Start(t, platformtest.Options{Store: st})
		lr := p.Login(t, "acme", "admin@acme.test")
		if err := exec(`ALTER TABLE stream_leases RENAME TO stream_leases_gone`); err != nil {
			t.Fatal(err)
		}
		msg := refusedAt(t, p.URL(), lr.Token, 503)
		for _, leak := range []string{"stream_leases", "sqlite", "postgres", "relation", "table"} {
			if strings.Contains(msg, leak) {
				t.Errorf("503 body leaks %q: %s", leak, msg)
			}
		}
		if n := p.Server().OpenStreams(); n != 0 {
			t.Errorf("%d streams open without a lease", n)
		}
		if err := exec(`ALTER TABLE stream_leases_gone RENAME TO stream_leases`); err != nil {
			t.Fatal(err)
		}
		openEventsAt(t, p.URL(), lr.Token).next(2 * time.Second)
	}
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "p.db")
		db, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		run(t, db, func(q string) error { _, err := raw.Exec(q); return err })
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := postgres.Open(ctx, pgtest.NewDatabase(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		run(t, db, func(q string) error { _, err := db.Pool().Exec(ctx, q); return err })
	})
}
