package server_test

// The server's limits: sessions per user, devices per user, and load
// shedding when more requests come than a class serves.

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/server"
	"sessiondesk/backend/store"
)

// memberSessions lists member@acme.test's active sessions as an admin
// sees them.
func memberSessions(t *testing.T, admin *client, memberID string) []string {
	t.Helper()
	var ids []string
	for _, s := range admin.allSessions("status=active&user_id="+memberID, 100) {
		ids = append(ids, s.ID)
	}
	sort.Strings(ids)
	return ids
}

// Issue 18, finding 4a: a member with no permissions signed in without
// limit. With --max-sessions-per-user 2, member@acme.test's third sign-in
// ends the least recently active of the member's sessions (not the oldest),
// its token is refused at once, the end is audited as session.terminate by
// the system with the reason "session limit", and sign-ins racing on every
// replica never leave more than 2 active.
func TestSignInPastTheSessionCapEndsTheLeastRecentlyActive(t *testing.T) {
	const max = 2
	clock := newFakeClock()
	// The throttle counts sign-ins in flight; eight at once must pass it.
	p := platformtest.Start(t, platformtest.Options{Clock: clock.Now, MaxSessionsPerUser: max,
		LoginThrottle: &server.ThrottleConfig{AccountLimit: 20, IPLimit: 20, Window: time.Minute}})
	anon := newClient(t, p, "")
	signIn := func() api.LoginResponse {
		t.Helper()
		var lr api.LoginResponse
		login(anon, api.LoginRequest{Org: "acme", Email: "member@acme.test", Password: platformtest.Password}).decode(t, 200, &lr)
		clock.Advance(2 * time.Minute)
		return lr
	}
	admin := newClient(t, p, p.Login(t, "acme", "admin@acme.test").Token)
	member, err := p.Store().UserByEmail(context.Background(), orgID(t, p, "acme"), "member@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	seeded := memberSessions(t, admin, member.ID)
	if len(seeded) != 1 {
		t.Fatalf("the demo seed gives member@acme.test %d active sessions, want 1", len(seeded))
	}
	seededID := seeded[0]
	a := signIn() // beside the member's seeded session: 2 active
	if got := memberSessions(t, admin, member.ID); len(got) != 2 {
		t.Fatalf("after one sign-in: %d active, want the seeded one and the new one", len(got))
	}
	b := signIn()                                                                   // ends the seeded session
	newClient(t, p, a.Token).do("GET", api.BasePath+"/me", nil).decode(t, 200, nil) // A is used: B is now the least recently active
	clock.Advance(2 * time.Minute)
	c := signIn() // ends B, though A is older
	if r := newClient(t, p, b.Token).do("GET", api.BasePath+"/me", nil); r.status != 401 {
		t.Errorf("the ended session's token: %d, want 401", r.status)
	}
	for _, lr := range []api.LoginResponse{a, c} {
		newClient(t, p, lr.Token).do("GET", api.BasePath+"/me", nil).decode(t, 200, nil)
	}
	want := []string{a.Session.ID, c.Session.ID}
	sort.Strings(want)
	if got := memberSessions(t, admin, a.User.ID); len(got) != max || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("active: %v, want A and C %v", got, want)
	}
	var audit api.AuditList
	admin.do("GET", api.BasePath+"/audit?action=session.terminate&target_user_id="+a.User.ID, nil).decode(t, 200, &audit)
	var ended []string
	for _, e := range audit.Items {
		if e.Actor.ID != api.SystemActorID || e.Reason != api.SessionLimitReason || e.Count != 1 || e.TargetUser == nil || e.TargetUser.ID != a.User.ID {
			t.Errorf("audit event of the cap: %+v", e)
		}
		if e.TargetID != nil {
			ended = append(ended, *e.TargetID)
		}
	}
	if len(ended) != 2 || ended[0] != b.Session.ID || ended[1] != seededID {
		t.Errorf("ended by the cap, newest first: %v, want B %s then the seeded %s", ended, b.Session.ID, seededID)
	}

	// Sign-ins at once, spread over the replicas.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if r := anon.do("POST", api.BasePath+"/auth/login", api.LoginRequest{Org: "acme", Email: "member@acme.test", Password: platformtest.Password}); r.status != 200 {
				t.Errorf("sign-in: %d %s", r.status, r.body)
			}
		})
	}
	wg.Wait()
	if got := memberSessions(t, admin, a.User.ID); len(got) != max {
		t.Errorf("8 sign-ins at once left %d active, want %d", len(got), max)
	}
}

// Issue 18, finding 3: one view holder signed in many times could fill the
// organization's stream cap (4 per session × any number of sessions), so
// admins lost live changes. A user holds at most 8 streams over all of the
// user's sessions, counted over every replica: the 9th is 429 with
// Retry-After on each replica, the organization keeps room for others, and
// closing one of the user's streams on one replica frees a place on the
// other.
func TestStreamsPerUserCountOverSessionsAndReplicas(t *testing.T) {
	const perOrg = 3 * 4 // three sessions' worth of streams
	p := platformtest.Start(t, platformtest.Options{Events: platformtest.EventsConfig{MaxPerOrg: perOrg}})
	bases := replicaBases(t, p)
	var tokens []string
	for range 3 {
		tokens = append(tokens, p.Login(t, "acme", "auditor@acme.test").Token)
	}
	var held []*sseStream
	for i := range api.MaxStreamsPerUser {
		held = append(held, openEventsAt(t, bases[i%len(bases)], tokens[i/4]))
	}
	for _, base := range bases {
		if msg := refusedAt(t, base, tokens[2], 429); !strings.Contains(msg, "over all your sessions") {
			t.Errorf("refusal names another cap: %s", msg)
		}
	}
	// The organization still has room for the admin's streams.
	admin := p.Login(t, "acme", "admin@acme.test")
	for i := range perOrg - api.MaxStreamsPerUser {
		openEventsAt(t, bases[i%len(bases)], admin.Token)
	}
	held[0].Close() // on replica 0
	held[0] = openWithin(t, bases[len(bases)-1], tokens[2], 2*time.Second)
	refusedAt(t, bases[0], tokens[2], 429)
}

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
		wg.Go(func() {
			c := newClient(t, slow, admin.Token)
			<-start
			t0 := time.Now()
			res := c.do("GET", api.BasePath+"/sessions?limit=1000", nil)
			results[i] = result{res.status, res.errCode(), res.header.Get("Retry-After"), time.Since(t0)}
		})
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
