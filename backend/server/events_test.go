package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/store"
)

// sseEvent is one block of an event stream: an event, an id-only block
// (Event == "" and Data == ""), or a ping comment (Ping).
type sseEvent struct {
	ID, Event, Data string
	Ping            bool
	At              time.Time
}

// sseStream reads a GET /api/v1/events answer in the background.
type sseStream struct {
	t      testing.TB
	res    *http.Response
	events chan sseEvent
	done   chan struct{} // closed at EOF or error
	cancel context.CancelFunc
}

// openEvents opens the stream; lastID is sent as Last-Event-ID when set.
// It fails the test unless the answer is 200 text/event-stream.
func openEvents(t testing.TB, p *platformtest.Platform, token, lastID string) *sseStream {
	t.Helper()
	s, res := tryEvents(t, p.URL(), token, lastID, nil, true)
	if res.StatusCode != 200 {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("events: status %d: %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events: content type %q", ct)
	}
	return s
}

// tryEvents sends the request; the stream reads only on a 200.
func tryEvents(t testing.TB, base, token, lastID string, client *http.Client, reading bool) (*sseStream, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", base+api.BasePath+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("events: %v", err)
	}
	s := &sseStream{t: t, res: res, events: make(chan sseEvent, 100000), done: make(chan struct{}), cancel: cancel}
	t.Cleanup(s.Close)
	if res.StatusCode == 200 && reading {
		go s.read()
	} else {
		close(s.done)
	}
	return s, res
}

func (s *sseStream) read() {
	defer close(s.done)
	br := bufio.NewReader(s.res.Body)
	var ev sseEvent
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			ev.At = time.Now()
			s.events <- ev
			ev = sseEvent{}
		case strings.HasPrefix(line, ": ping"):
			ev.Ping = true
		case strings.HasPrefix(line, "id: "):
			ev.ID = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.Event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.Data = line[6:]
		default:
			s.t.Errorf("unexpected stream line %q", line)
		}
	}
}

func (s *sseStream) Close() {
	s.cancel()
	s.res.Body.Close()
}

// next returns the next block that is not a ping, failing after d.
func (s *sseStream) next(d time.Duration) sseEvent {
	s.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev := <-s.events:
			if !ev.Ping {
				return ev
			}
		case <-timer.C:
			s.t.Fatalf("no event within %v", d)
			return sseEvent{}
		}
	}
}

// until collects events until one matches, failing after d.
func (s *sseStream) until(d time.Duration, match func(sseEvent) bool) []sseEvent {
	s.t.Helper()
	var got []sseEvent
	deadline := time.Now().Add(d)
	for {
		ev := s.next(time.Until(deadline))
		got = append(got, ev)
		if match(ev) {
			return got
		}
	}
}

// ended waits for the end of the stream.
func (s *sseStream) ended(d time.Duration) bool {
	select {
	case <-s.done:
		return true
	case <-time.After(d):
		return false
	}
}

func TestEventsDeliverChangesAsListsShowThem(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := p.Login(t, "acme", "admin@acme.test")
	auditor := p.Login(t, "acme", "auditor@acme.test")
	globex := p.Login(t, "globex", "admin@globex.test")
	s := openEvents(t, p, auditor.Token, "")
	start := s.next(2 * time.Second)
	if start.Event != "" || start.ID == "" || start.Data != "" {
		t.Fatalf("first block = %+v, want an id-only block", start)
	}

	// Another organization's change never shows.
	gv := activeSessions(t, p, "globex")[3]
	newClient(t, p, globex.Token).do("POST", api.BasePath+"/sessions/"+gv.ID+"/terminate", map[string]string{}).decode(t, 200, nil)

	victim := activeSessions(t, p, "acme")[5]
	began := time.Now()
	ac := newClient(t, p, admin.Token)
	ac.do("POST", api.BasePath+"/sessions/"+victim.ID+"/terminate", map[string]string{"reason": "live"}).decode(t, 200, nil)
	got := s.until(time.Second, func(e sseEvent) bool { return e.Event == "audit" })
	if len(got) != 2 || got[0].Event != "session" {
		t.Fatalf("events = %+v, want the session then its audit event", got)
	}
	if d := got[1].At.Sub(began); d > time.Second {
		t.Errorf("events took %v", d)
	}
	// The data is exactly what the delta feed shows this caller.
	var feed api.SessionList
	newClient(t, p, auditor.Token).do("GET", api.BasePath+"/sessions?updated_since=2000-01-01T00:00:00Z&limit=1000&user_id="+victim.User.ID, nil).decode(t, 200, &feed)
	var want []byte
	for _, it := range feed.Items {
		if it.ID == victim.ID {
			want, _ = json.Marshal(it)
		}
	}
	var gotSess api.Session
	if err := json.Unmarshal([]byte(got[0].Data), &gotSess); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(gotSess)
	if string(again) != string(want) || gotSess.Status != api.StatusTerminated {
		t.Errorf("session event\n%s\nwant\n%s", got[0].Data, want)
	}
	var audit api.AuditEvent
	if err := json.Unmarshal([]byte(got[1].Data), &audit); err != nil || audit.Action != store.ActionSessionTerminate || audit.TargetID == nil || *audit.TargetID != victim.ID || audit.Reason != "live" {
		t.Errorf("audit event %s (%v)", got[1].Data, err)
	}
	if got[0].ID == "" || got[1].ID == "" || got[0].ID == got[1].ID {
		t.Errorf("ids %q %q", got[0].ID, got[1].ID)
	}

	// A sign-in: the new device, then the session; the caller's own
	// changes carry current = true.
	p.Login(t, "acme", "member@acme.test")
	got = s.until(time.Second, func(e sseEvent) bool { return e.Event == "session" })
	if len(got) != 2 || got[0].Event != "device" {
		t.Fatalf("sign-in events = %+v", got)
	}
	newClient(t, p, auditor.Token).do("POST", api.BasePath+"/sessions/"+auditor.Session.ID+"/terminate", map[string]string{}).decode(t, 200, nil)
	ev := s.until(time.Second, func(e sseEvent) bool { return e.Event == "session" })
	var own api.Session
	if err := json.Unmarshal([]byte(ev[len(ev)-1].Data), &own); err != nil || !own.Current || own.ID != auditor.Session.ID {
		t.Errorf("own session event %s", ev[len(ev)-1].Data)
	}
}

func TestEventsRefuseWithoutPermissionOrBadToken(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	member := p.Login(t, "acme", "member@acme.test")
	_, res := tryEvents(t, p.URL(), member.Token, "", nil, true)
	if res.StatusCode != 403 {
		t.Errorf("member: %d", res.StatusCode)
	}
	admin := p.Login(t, "acme", "admin@acme.test")
	for _, bad := range []string{"nope!", "bm9wZQ", strings.Repeat("A", 300)} {
		_, res := tryEvents(t, p.URL(), admin.Token, bad, nil, true)
		if res.StatusCode != 400 {
			t.Errorf("Last-Event-ID %q: %d, want 400", bad, res.StatusCode)
		}
	}
}

// streamPos is a change's place in the change order, read from its data.
type streamPos struct {
	at   time.Time
	rank int
	id   string
}

func (a streamPos) less(b streamPos) bool {
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.id < b.id
}

func posOf(t testing.TB, e sseEvent) streamPos {
	t.Helper()
	var v struct {
		ID        string    `json:"id"`
		UpdatedAt time.Time `json:"updated_at"`
		At        time.Time `json:"at"`
	}
	if err := json.Unmarshal([]byte(e.Data), &v); err != nil {
		t.Fatalf("event data %q: %v", e.Data, err)
	}
	switch e.Event {
	case "device":
		return streamPos{v.UpdatedAt, 1, v.ID}
	case "session":
		return streamPos{v.UpdatedAt, 2, v.ID}
	case "audit":
		return streamPos{v.At, 3, v.ID}
	}
	t.Fatalf("unexpected event %q", e.Event)
	return streamPos{}
}

// TestEventsResumeNeitherSkipsNorRepeats reconnects again and again with
// Last-Event-ID while writers change the organization, and compares what
// the resumed streams saw with the store's final state.
func TestEventsResumeNeitherSkipsNorRepeats(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := p.Login(t, "acme", "admin@acme.test")
	reader := p.Login(t, "acme", "auditor@acme.test")
	first := openEvents(t, p, reader.Token, "")
	lastID := first.next(2 * time.Second).ID
	first.Close()
	started := time.Now() // the store's clock is the real one

	victims := activeSessions(t, p, "acme")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(2)
	go func() { // terminations through the API
		defer wg.Done()
		c := newClient(t, p, admin.Token)
		for i, v := range victims[:60] {
			if v.ID == admin.Session.ID || v.ID == reader.Session.ID {
				continue
			}
			c.do("POST", api.BasePath+"/sessions/"+v.ID+"/terminate", map[string]string{"reason": fmt.Sprint(i)})
		}
	}()
	go func() { // sign-ins: a new device and a session each
		defer wg.Done()
		for range 30 {
			p.Login(t, "acme", "member@acme.test")
		}
	}()
	go func() { wg.Wait(); close(stop) }()

	seen := map[streamPos]bool{}
	var prev streamPos
	collect := func(e sseEvent) {
		if e.Event == "reset" {
			t.Fatalf("unexpected reset")
		}
		if e.Event == "" {
			return
		}
		pos := posOf(t, e)
		if seen[pos] {
			t.Errorf("repeated %s %v", e.Event, pos)
		}
		if !prev.less(pos) {
			t.Errorf("out of order: %v after %v", pos, prev)
		}
		seen[pos], prev, lastID = true, pos, e.ID
	}
	writing := true
	for reconnects := 0; ; reconnects++ {
		s := openEvents(t, p, reader.Token, lastID)
		// Read a few events (or a short while), then drop the connection
		// in the middle of the flow.
		deadline := time.After(time.Duration(20+reconnects%5*15) * time.Millisecond)
	read:
		for n := 0; n < 7; n++ {
			select {
			case e := <-s.events:
				if !e.Ping {
					collect(e)
				}
			case <-deadline:
				break read
			}
		}
		s.Close()
		if !writing {
			break
		}
		select {
		case <-stop:
			writing = false // one more round reads the rest
			time.Sleep(1500 * time.Millisecond)
		default:
		}
	}
	// The last round may have left changes unread: read them now.
	final := openEvents(t, p, reader.Token, lastID)
	for {
		select {
		case e := <-final.events:
			if !e.Ping {
				collect(e)
			}
			continue
		case <-time.After(1500 * time.Millisecond):
		}
		break
	}

	// Every session's and device's final state, and every audit event,
	// after the first position was seen.
	org := orgID(t, p, "acme")
	all, err := p.Store().Changes(context.Background(), org, store.ChangePos{}, 100000)
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, c := range all {
		if pos := (streamPos{c.Pos.At, c.Pos.Rank, c.Pos.ID}); c.Pos.At.After(started) && !seen[pos] {
			missing++
			t.Errorf("skipped %s %v", c.Kind(), pos)
		}
	}
	if len(seen) < 60+30*2 {
		t.Errorf("saw only %d changes", len(seen))
	}
	t.Logf("saw %d changes, %d missing", len(seen), missing)
}

func TestEventsResetForTokenTooOld(t *testing.T) {
	clock := newFakeClock()
	clock.Set(time.Now().UTC())
	p := platformtest.Start(t, platformtest.Options{Clock: clock.Now, Events: platformtest.EventsConfig{MaxResumeAge: time.Hour},
		IdleTimeout: 48 * time.Hour})
	admin := p.Login(t, "acme", "admin@acme.test")
	s := openEvents(t, p, admin.Token, "")
	old := s.next(2 * time.Second).ID
	s.Close()
	clock.Advance(2 * time.Hour)
	victim := activeSessions(t, p, "acme")[2]
	newClient(t, p, admin.Token).do("POST", api.BasePath+"/sessions/"+victim.ID+"/terminate", map[string]string{}).decode(t, 200, nil)

	s = openEvents(t, p, admin.Token, old)
	ev := s.next(2 * time.Second)
	if ev.Event != "reset" || ev.ID == "" {
		t.Fatalf("first event %+v, want reset", ev)
	}
	// It goes on from the present.
	v2 := activeSessions(t, p, "acme")[3]
	newClient(t, p, admin.Token).do("POST", api.BasePath+"/sessions/"+v2.ID+"/terminate", map[string]string{}).decode(t, 200, nil)
	ev = s.next(2 * time.Second)
	if ev.Event != "session" || !strings.Contains(ev.Data, v2.ID) {
		t.Fatalf("after reset: %+v", ev)
	}
}

func TestEventsSessionEndedWithinOneSecond(t *testing.T) {
	clock := newFakeClock()
	clock.Set(time.Now().UTC())
	p := platformtest.Start(t, platformtest.Options{Clock: clock.Now, IdleTimeout: time.Hour})
	admin := p.Login(t, "acme", "admin@acme.test")

	cases := []struct {
		name string
		end  func(victim api.LoginResponse)
	}{
		{"terminated by an admin", func(v api.LoginResponse) {
			newClient(t, p, admin.Token).do("POST", api.BasePath+"/sessions/"+v.Session.ID+"/terminate", map[string]string{}).decode(t, 200, nil)
		}},
		{"logged out", func(v api.LoginResponse) {
			newClient(t, p, v.Token).do("POST", api.BasePath+"/auth/logout", nil).decode(t, 204, nil)
		}},
		{"expired", func(api.LoginResponse) { clock.Advance(2 * time.Hour) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := p.Login(t, "acme", "auditor@acme.test")
			s := openEvents(t, p, v.Token, "")
			s.next(2 * time.Second)
			began := time.Now()
			tc.end(v)
			got := s.until(time.Second, func(e sseEvent) bool { return e.Event == "session_ended" })
			if !s.ended(time.Second - time.Since(began)) {
				t.Fatalf("stream still open %v after the session ended (events %+v)", time.Since(began), got)
			}
			t.Logf("%s: session_ended after %v", tc.name, got[len(got)-1].At.Sub(began))
		})
	}
}

func TestEventsCapsAnswer429(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Events: platformtest.EventsConfig{MaxPerSession: 2, MaxPerOrg: 3}})
	a := p.Login(t, "acme", "admin@acme.test")
	b := p.Login(t, "acme", "auditor@acme.test")
	s1 := openEvents(t, p, a.Token, "")
	openEvents(t, p, a.Token, "")
	if _, res := tryEvents(t, p.URL(), a.Token, "", nil, true); res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Errorf("third stream of a session: %d (Retry-After %q)", res.StatusCode, res.Header.Get("Retry-After"))
	}
	openEvents(t, p, b.Token, "")
	if _, res := tryEvents(t, p.URL(), b.Token, "", nil, true); res.StatusCode != 429 {
		t.Errorf("fourth stream of the organization: %d", res.StatusCode)
	}
	// Another organization has its own cap.
	openEvents(t, p, p.Login(t, "globex", "admin@globex.test").Token, "")
	// Closing one frees its place.
	s1.Close()
	deadline := time.Now().Add(2 * time.Second)
	for p.Server().OpenStreams() != 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	openEvents(t, p, b.Token, "")
}

// TestEventsServerTimeoutsDoNotCutHealthyStreams serves with the read and
// write timeouts far shorter than the stream is held.
func TestEventsServerTimeoutsDoNotCutHealthyStreams(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
		Events: platformtest.EventsConfig{PingInterval: 100 * time.Millisecond}})
	admin := p.Login(t, "acme", "admin@acme.test")
	s := openEvents(t, p, admin.Token, "")
	s.next(time.Second)
	time.Sleep(1500 * time.Millisecond)
	pings := 0
	for len(s.events) > 0 {
		if (<-s.events).Ping {
			pings++
		}
	}
	if pings < 5 {
		t.Errorf("%d pings in 1.5 s at a 100 ms interval", pings)
	}
	victim := activeSessions(t, p, "acme")[1]
	newClient(t, p, admin.Token).do("POST", api.BasePath+"/sessions/"+victim.ID+"/terminate", map[string]string{}).decode(t, 200, nil)
	if ev := s.next(time.Second); ev.Event != "session" {
		t.Errorf("after 1.5 s: %+v", ev)
	}
}

func TestEventsPingWhenIdle(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Events: platformtest.EventsConfig{PingInterval: 200 * time.Millisecond}})
	s := openEvents(t, p, p.Login(t, "acme", "admin@acme.test").Token, "")
	s.next(time.Second)
	select {
	case ev := <-s.events:
		if !ev.Ping {
			t.Errorf("want a ping, got %+v", ev)
		}
	case <-time.After(time.Second):
		t.Error("no ping within 1 s at a 200 ms interval")
	}
}

// TestEventsStalledSubscriberIsDropped holds one stream that never reads
// (a tiny receive buffer) beside a healthy one while a terminate-all
// produces 20,001 changes: the writer and the healthy stream go on, and the
// server lets go of the stalled one.
func TestEventsStalledSubscriberIsDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 sessions")
	}
	p := platformtest.Start(t, platformtest.Options{Events: platformtest.EventsConfig{Buffer: 64, WriteTimeout: time.Second}})
	seedLarge(t, p, 20000, 40)
	admin := p.Login(t, "big", "admin@big.test")
	healthy := openEvents(t, p, admin.Token, "")
	healthy.next(time.Second)

	stalledClient := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			if err != nil {
				return err
			}
			return serr
		}}).DialContext}}
	// It never reads: no reader goroutine.
	if _, res := tryEvents(t, p.URL(), p.Login(t, "big", "admin@big.test").Token, "", stalledClient, false); res.StatusCode != 200 {
		t.Fatalf("stalled stream: %d", res.StatusCode)
	}

	began := time.Now()
	var out api.TerminateAllResponse
	newClient(t, p, admin.Token).do("POST", api.BasePath+"/sessions/terminate-all", map[string]any{"keep_current": true}).decode(t, 200, &out)
	t.Logf("terminate-all of %d sessions took %v", out.Terminated, time.Since(began))
	got := 0
	healthy.until(30*time.Second, func(e sseEvent) bool {
		if e.Event == "session" {
			got++
		}
		return e.Event == "audit"
	})
	if got < out.Terminated {
		t.Errorf("healthy stream saw %d sessions of %d", got, out.Terminated)
	}
	t.Logf("healthy stream had all events after %v", time.Since(began))
	deadline := time.Now().Add(10 * time.Second)
	for p.Server().OpenStreams() != 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := p.Server().OpenStreams(); n != 1 {
		t.Errorf("%d open streams, want only the healthy one", n)
	}
}

// openStream opens an event stream as the permission matrix needs it: the
// status and headers, without waiting for a body that never ends.
func (c *client) openStream(path string) response {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var body []byte
	if res.StatusCode != 200 {
		body, _ = io.ReadAll(res.Body)
	}
	return response{status: res.StatusCode, header: res.Header, body: body}
}

// TestCloseStreamsEndsThemForShutdown: http.Server.Shutdown waits for
// handlers, so platformd ends the streams first (RegisterOnShutdown).
func TestCloseStreamsEndsThemForShutdown(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	admin := p.Login(t, "acme", "admin@acme.test")
	s := openEvents(t, p, admin.Token, "")
	s.next(time.Second)
	p.Server().CloseStreams()
	if !s.ended(time.Second) {
		t.Fatal("stream still open after CloseStreams")
	}
	if _, res := tryEvents(t, p.URL(), admin.Token, "", nil, true); res.StatusCode != 503 {
		t.Errorf("new stream while shutting down: %d, want 503", res.StatusCode)
	}
}
