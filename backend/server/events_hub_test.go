package server_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/internal/testutil"
)

// writeGate holds the response writes of one token's requests while
// closed: a client whose network stalls for a while, deterministic.
type writeGate struct {
	token   string
	mu      sync.Mutex
	closed  bool
	opened  chan struct{}
	waiting atomic.Int32 // writes held right now
}

func (g *writeGate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.closed, g.opened = true, make(chan struct{})
	}
}

func (g *writeGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		g.closed = false
		close(g.opened)
	}
}

func (g *writeGate) wait() {
	g.mu.Lock()
	closed, opened := g.closed, g.opened
	g.mu.Unlock()
	if closed {
		g.waiting.Add(1)
		<-opened
		g.waiting.Add(-1)
	}
}

// wrap serves h, holding the writes of the gate's token's answers.
func (g *writeGate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+g.token {
			w = heldWriter{ResponseWriter: w, g: g}
		}
		h.ServeHTTP(w, r)
	})
}

type heldWriter struct {
	http.ResponseWriter
	g *writeGate
}

func (w heldWriter) Write(b []byte) (int, error) {
	w.g.wait()
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the connection's flush and deadlines.
func (w heldWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Issue 18, finding 8: stream A falls a buffer behind its organization's
// hub (its client stalls) and is dropped; before it re-attaches, B, the
// organization's only other stream, closes, and the hub stopped with it
// (A no longer counted). A then re-attached to the stopped hub: it caught
// up from the store and went on pinging, but no later change ever reached
// it, so the app never fell back to polling. It must get the next change.
func TestDroppedStreamReattachesToALiveHub(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := p.Login(t, "acme", "admin@acme.test")
	auditor := p.Login(t, "acme", "auditor@acme.test")
	gate := &writeGate{token: auditor.Token}
	// Its own server on the platform's store, with a two-event buffer; it
	// wakes its hubs for the writes it serves itself.
	srv := platformtest.Start(t, platformtest.Options{Store: p.Store(), Seed: "none", WrapHandler: gate.wrap,
		Events: platformtest.EventsConfig{Buffer: 2, WriteTimeout: 30 * time.Second}})
	h := srv.Server()
	t.Cleanup(h.CloseStreams)
	adm := newClient(t, srv, admin.Token)
	var victims []string
	for _, s := range activeSessions(t, p, "acme") {
		if s.ID != admin.Session.ID && s.ID != auditor.Session.ID && len(victims) < 5 {
			victims = append(victims, s.ID)
		}
	}
	terminate := func(id string) {
		adm.do("POST", api.BasePath+"/sessions/"+id+"/terminate", map[string]string{}).decode(t, 200, nil)
	}
	audits := func(s *sseStream, n int) {
		t.Helper()
		got := 0
		s.until(5*time.Second, func(e sseEvent) bool {
			if e.Event == "audit" {
				got++
			}
			return got == n
		})
	}

	b := openEventsAt(t, srv.URL(), admin.Token)
	b.next(time.Second)
	a := openEventsAt(t, srv.URL(), auditor.Token)
	a.next(time.Second)
	gate.hold()
	for _, id := range victims[:4] { // 8 events: A holds 1 in a write and 2 in its buffer
		terminate(id)
	}
	audits(b, 4) // the hub handed out every event: A was dropped on the way
	testutil.WaitFor(t, 5*time.Second, "A's write held", func() bool { return gate.waiting.Load() == 1 })
	b.Close()
	testutil.WaitFor(t, 5*time.Second, "B closed", func() bool { return h.OpenStreams() == 1 })
	gate.release()
	audits(a, 4) // A catches up: its buffer, then the store
	terminate(victims[4])
	got := a.until(5*time.Second, func(e sseEvent) bool { return e.Event == "session" })
	t.Logf("the change after re-attaching arrived after %d blocks", len(got))
}
