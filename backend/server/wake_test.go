package server_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/store"
)

// countingStore is the real store, counting the change-feed reads the
// event hubs make.
type countingStore struct {
	store.Store
	changes *atomic.Int64
	org     string // when set, only this organization's reads count
}

func (c countingStore) Changes(ctx context.Context, orgID string, after store.ChangePos, limit int) ([]store.Change, error) {
	if c.org == "" || c.org == orgID {
		c.changes.Add(1)
	}
	return c.Store.Changes(ctx, orgID, after, limit)
}

// startCountingServer serves p's store through a countingStore (counting
// org's change-feed reads, every org's when ""), with no safety poll, so
// that every read it counts is a wake-up.
func startCountingServer(t *testing.T, p *platformtest.Platform, org string) (*platformtest.Platform, *atomic.Int64) {
	t.Helper()
	changes := new(atomic.Int64)
	counted := platformtest.Start(t, platformtest.Options{Store: countingStore{Store: p.Store(), changes: changes, org: org},
		Seed: "none", Events: platformtest.EventsConfig{PollInterval: time.Hour}})
	t.Cleanup(counted.Server().CloseStreams)
	return counted, changes
}

// openCountedStream signs org's admin in through anon and opens an event
// stream on srv, then waits until the stream's hub is running.
func openCountedStream(t *testing.T, srv *platformtest.Platform, anon *client, org string) (token string) {
	t.Helper()
	var lr api.LoginResponse
	login(anon, api.LoginRequest{Org: org, Email: "admin@" + org + ".test", Password: platformtest.Password}).decode(t, 200, &lr)
	_, res := tryEvents(t, srv.URL(), lr.Token, "", nil, false)
	if res.StatusCode != 200 {
		t.Fatalf("events: %d", res.StatusCode)
	}
	time.Sleep(100 * time.Millisecond) // the stream's hub is running
	return lr.Token
}

// TestRefusedRequestsDoNotWakeTheEventHubs sends a flood of POSTs that
// change nothing — malformed sign-ins, a wrong content type — without any
// credential while an event stream is open. Every POST woke every
// organization's hub (on PostgreSQL: on every replica, through NOTIFY),
// and each wake-up is a change-feed transaction, so anyone who could reach
// the port could keep the database busy with one cheap request per
// (organizations with streams × replicas) reads. Only a request that went
// through may wake them.
func TestRefusedRequestsDoNotWakeTheEventHubs(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	srv, changes := startCountingServer(t, p, "")
	anon := newClient(t, srv, "")
	token := openCountedStream(t, srv, anon, "acme")
	before := changes.Load()

	const flood = 200
	for i := 0; i < flood; i++ {
		if r := anon.do("POST", api.BasePath+"/auth/login", "{"); r.status != 400 {
			t.Fatalf("malformed sign-in: %d", r.status)
		}
		req, _ := http.NewRequest("POST", srv.URL()+api.BasePath+"/auth/login", strings.NewReader("org=acme"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 415 {
			t.Fatalf("form sign-in: %d", r.StatusCode)
		}
	}
	time.Sleep(100 * time.Millisecond) // let woken hubs read
	if n := changes.Load() - before; n > 2 {
		t.Fatalf("%d refused unauthenticated requests made the hub read the change feed %d times", 2*flood, n)
	}

	// A write that went through still wakes the hub at once.
	before = changes.Load()
	admin := newClient(t, srv, token)
	admin.do("POST", api.BasePath+"/sessions/"+activeSessions(t, p, "acme")[5].ID+"/terminate", map[string]string{}).decode(t, 200, nil)
	deadline := time.Now().Add(time.Second)
	for changes.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("a terminate did not wake the hub")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSignInWakesOnlyItsOrganization signs in to one organization again and
// again while another organization has a stream open. A sign-in has no
// caller when the endpoint wakes the hubs, so it woke every organization's
// (and, on PostgreSQL, every replica's): any member's password was enough
// to make every other tenant's hubs read the store once per sign-in.
func TestSignInWakesOnlyItsOrganization(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	globex, err := p.Store().OrgBySlug(context.Background(), "globex")
	if err != nil {
		t.Fatal(err)
	}
	srv, changes := startCountingServer(t, p, globex.ID)
	anon := newClient(t, srv, "")
	openCountedStream(t, srv, anon, "globex")
	before := changes.Load()
	const n = 30
	for i := 0; i < n; i++ {
		login(anon, api.LoginRequest{Org: "acme", Email: "member@acme.test", Password: platformtest.Password}).decode(t, 200, nil)
	}
	time.Sleep(100 * time.Millisecond)
	if got := changes.Load() - before; got > 2 {
		t.Fatalf("%d sign-ins to acme made globex's hub read the change feed %d times", n, got)
	}
	// A sign-in to globex itself wakes it at once.
	before = changes.Load()
	login(anon, api.LoginRequest{Org: "globex", Email: "admin@globex.test", Password: platformtest.Password}).decode(t, 200, nil)
	deadline := time.Now().Add(time.Second)
	for changes.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("a sign-in to globex did not wake its hub")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
