package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/server"
	"sessiondesk/backend/store"
)

// Contract v1.2, issue 18 finding 2: a body is read before its request takes
// a load-shedding slot, and one client IP cannot take every sign-in slot.
// These tests are black-box: real connections on loopback, as an attacker
// would open them.

// stalled is a request whose headers and first body byte were sent, and
// then nothing: a slow (or malicious) client.
type stalled struct {
	conn net.Conn
	sent time.Time
}

// stallBody opens a connection to the platform and sends a POST's headers
// (Content-Length 100) and one byte of its body.
func stallBody(t *testing.T, p *platformtest.Platform, path, token string) *stalled {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req := "POST " + path + " HTTP/1.1\r\nHost: platformd\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
	if token != "" {
		req += "Authorization: Bearer " + token + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n{"); err != nil {
		t.Fatal(err)
	}
	return &stalled{conn: conn, sent: time.Now()}
}

// answer reads the stalled request's answer, waiting at most limit.
func (s *stalled) answer(t *testing.T, limit time.Duration) (res *http.Response, body []byte, code string, after time.Duration) {
	t.Helper()
	s.conn.SetReadDeadline(time.Now().Add(limit))
	res, err := http.ReadResponse(bufio.NewReader(s.conn), nil)
	if err != nil {
		t.Fatalf("no answer to the stalled request within %v of sending it: %v", time.Since(s.sent), err)
	}
	after = time.Since(s.sent)
	defer res.Body.Close()
	body, _ = io.ReadAll(res.Body)
	var e api.ErrorBody
	if json.Unmarshal(body, &e) != nil {
		t.Errorf("stalled request: answer %d with a body that is not a JSON error: %q", res.StatusCode, body)
	}
	return res, body, e.Error.Code, after
}

// checkTimedOut checks that every stalled request got 408 request_timeout
// once (and not long after) its body was due, and that its connection
// closes, so that the body's rest is never waited for.
func checkTimedOut(t *testing.T, slow []*stalled, wait time.Duration) {
	t.Helper()
	for i, s := range slow {
		res, _, code, after := s.answer(t, wait+5*time.Second)
		if res.StatusCode != http.StatusRequestTimeout || code != api.CodeRequestTimeout {
			t.Errorf("stalled request %d: %d %q, want 408 %s", i, res.StatusCode, code, api.CodeRequestTimeout)
		}
		if after < wait-50*time.Millisecond || after > wait+3*time.Second {
			t.Errorf("stalled request %d answered %v after it stalled; want about %v", i, after, wait)
		}
		if !res.Close {
			t.Errorf("stalled request %d: the answer keeps the connection open", i)
		}
	}
}

// More slow sign-in bodies than every replica's sign-in slots and queue
// together: a correct sign-in from another connection is still answered at
// once, and each slow one gets 408 when its time is up. Before v1.2 the
// slow ones held the slots (up to the 30 s read timeout) and the admin got
// 503 "the platform is busy".
func TestSlowBodiesHoldNoSignInSlot(t *testing.T) {
	const wait = 2 * time.Second
	p := platformtest.Start(t, platformtest.Options{BodyReadTimeout: wait,
		Shed: server.ShedConfig{Logins: server.ClassLimit{Concurrent: 2, Queue: 1}}})
	n := max(6, 3*p.Replicas()+2)
	var slow []*stalled
	for range n {
		slow = append(slow, stallBody(t, p, api.BasePath+"/auth/login", ""))
	}
	time.Sleep(200 * time.Millisecond) // the server has read every request's headers

	t0 := time.Now()
	res := login(&client{t: t, base: p.URL()}, api.LoginRequest{Org: "acme", Email: "admin@acme.test", Password: platformtest.Password})
	if res.status != http.StatusOK {
		t.Fatalf("admin sign-in beside %d slow bodies: %d %s", n, res.status, res.body)
	}
	if took := time.Since(t0); took > wait/2 {
		t.Errorf("admin sign-in took %v beside %d slow bodies (they time out after %v)", took, n, wait)
	}
	checkTimedOut(t, slow, wait)
}

// The same on the write routes: an auditor's slow bodies on terminate do
// not hold the writes' slots, so another organization's admin terminates
// at once.
func TestSlowBodiesHoldNoWriteSlot(t *testing.T) {
	const wait = 2 * time.Second
	p := platformtest.Start(t, platformtest.Options{BodyReadTimeout: wait,
		Shed: server.ShedConfig{Writes: server.ClassLimit{Concurrent: 2, Queue: 1}}})
	auditor := p.Login(t, "acme", "auditor@acme.test")
	gadmin := p.Login(t, "globex", "admin@globex.test")
	acmeVictim := activeSessions(t, p, "acme")[0]
	var globexVictim store.Session
	for _, s := range activeSessions(t, p, "globex") {
		if s.ID != gadmin.Session.ID {
			globexVictim = s
			break
		}
	}
	n := max(6, 3*p.Replicas()+2)
	var slow []*stalled
	for range n {
		slow = append(slow, stallBody(t, p, api.BasePath+"/sessions/"+acmeVictim.ID+"/terminate", auditor.Token))
	}
	time.Sleep(200 * time.Millisecond)

	t0 := time.Now()
	res := (&client{t: t, base: p.URL(), token: gadmin.Token}).do("POST", api.BasePath+"/sessions/"+globexVictim.ID+"/terminate", map[string]string{"reason": "test"})
	if res.status != http.StatusOK {
		t.Fatalf("globex admin's terminate beside %d slow bodies: %d %s", n, res.status, res.body)
	}
	if took := time.Since(t0); took > wait/2 {
		t.Errorf("terminate took %v beside %d slow bodies", took, n)
	}
	checkTimedOut(t, slow, wait)
	// The slow requests changed nothing.
	for _, s := range activeSessions(t, p, "acme") {
		if s.ID == acmeVictim.ID {
			return
		}
	}
	t.Errorf("the stalled terminations ended %s", acmeVictim.ID)
}

// slowSignIns is the real store behind a slow disk on the sign-in path:
// every attempt's reservation takes delay more, so that sign-ins hold their
// slots long enough for a flood to fill them.
type slowSignIns struct {
	store.Store
	delay time.Duration
}

func (s slowSignIns) ReserveAttempt(ctx context.Context, keys []store.ThrottleKey, now time.Time, window time.Duration) (store.Reservation, error) {
	time.Sleep(s.delay)
	return s.Store.ReserveAttempt(ctx, keys, now, window)
}

// signInClient sends sign-ins from one client address: a source address
// of its own on loopback (all of 127/8 is loopback on Linux), or, behind
// --trust-proxy, the address an X-Forwarded-For names.
type signInClient struct {
	base string
	xff  string
	http *http.Client
}

func newSignInClient(base, source, xff string) *signInClient {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(source)}
	}
	return &signInClient{base: base, xff: xff, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64}}}
}

func (c *signInClient) signIn(ctx context.Context, email, password string) (int, error) {
	body, _ := json.Marshal(api.LoginRequest{Org: "acme", Email: email, Password: password})
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+api.BasePath+"/auth/login", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.xff != "" {
		req.Header.Set("X-Forwarded-For", c.xff)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// One address hammering sign-in (more sign-ins at once than the class has
// slots and queue for within its wait) cannot take every sign-in slot: a
// correct sign-in from another address is served promptly, every time. The
// flood's own excess gets 429, not the others' 503. Before v1.2 the
// flood's requests filled the slots and the queue ahead of everyone else.
func TestOneAddressCannotTakeEverySignInSlot(t *testing.T) {
	const delay = 150 * time.Millisecond
	opts := platformtest.Options{
		LoginThrottle: &server.ThrottleConfig{AccountLimit: 1 << 20, IPLimit: 1 << 20, Window: time.Minute},
		Shed:          server.ShedConfig{Logins: server.ClassLimit{Concurrent: 2, Queue: 50}, MaxWait: 600 * time.Millisecond},
		WrapStore:     func(st store.Store) store.Store { return slowSignIns{st, delay} },
	}
	t.Run("source address", func(t *testing.T) {
		p := platformtest.Start(t, opts)
		hammerSignIns(t, newSignInClient(p.URL(), "127.0.0.1", ""), newSignInClient(p.URL(), "127.0.0.2", ""), delay)
	})
	t.Run("X-Forwarded-For, IPv6 by /64", func(t *testing.T) {
		opts := opts
		opts.TrustProxy = true
		p := platformtest.Start(t, opts)
		// The flood comes from many addresses of one /64; the proxy and
		// the other client share 127.0.0.1.
		var n atomic.Int64
		flood := func() *signInClient {
			return newSignInClient(p.URL(), "", fmt.Sprintf("2001:db8:1:2::%x", n.Add(1)))
		}
		hammerSignIns(t, flood, newSignInClient(p.URL(), "", "2001:db8:1:3::1"), delay)
	})
}

// hammerSignIns runs 16 sign-in loops of the flood (a *signInClient, or a
// func giving one per loop) with wrong passwords while good signs in
// correctly five times, one after another; each of good's must be 200
// within about one sign-in's time.
func hammerSignIns(t *testing.T, flood any, good *signInClient, delay time.Duration) {
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range 16 {
		c, ok := flood.(*signInClient)
		if !ok {
			c = flood.(func() *signInClient)()
		}
		wg.Go(func() {
			for j := 0; ctx.Err() == nil; j++ {
				status, err := c.signIn(ctx, fmt.Sprintf("nobody%d.%d@acme.test", i, j), "wrong")
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					t.Errorf("flood: %v", err)
					return
				}
				mu.Lock()
				statuses[status]++
				mu.Unlock()
				if status != http.StatusUnauthorized {
					time.Sleep(5 * time.Millisecond) // refused at once; hammer on, but not in a busy loop
				}
			}
		})
	}
	defer func() {
		stop()
		wg.Wait()
		t.Logf("the flood's answers: %v", statuses)
		if statuses[http.StatusUnauthorized] == 0 {
			t.Error("the flood was never served: it did not take its share")
		}
	}()
	time.Sleep(300 * time.Millisecond) // the flood fills what it can

	for i := range 5 {
		t0 := time.Now()
		status, err := good.signIn(context.Background(), "admin@acme.test", platformtest.Password)
		took := time.Since(t0)
		if err != nil || status != http.StatusOK {
			t.Fatalf("sign-in %d from another address during the flood: %d %v after %v", i, status, err, took)
		}
		if took > delay+time.Second {
			t.Errorf("sign-in %d from another address took %v during the flood", i, took)
		}
	}
}

// The body read ahead holds exactly api.MaxBodyBytes, also when its length
// is not declared (chunked): a sign-in padded to 64 KiB is served, one byte
// more is 400, and a declared length over the limit is refused unread.
func TestBodyReadAheadLimit(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	signIn := `{"org":"acme","email":"admin@acme.test","password":"` + platformtest.Password + `"}`
	post := func(body string, chunked bool) response {
		t.Helper()
		var r io.Reader = strings.NewReader(body)
		if chunked {
			r = io.MultiReader(r) // hides the length: sent chunked
		}
		req, err := http.NewRequest("POST", p.URL()+api.BasePath+"/auth/login", r)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		return response{status: res.StatusCode, header: res.Header, body: data}
	}
	for _, chunked := range []bool{false, true} {
		full := signIn + strings.Repeat(" ", api.MaxBodyBytes-len(signIn))
		post(full, chunked).decode(t, 200, nil)
		res := post(full+" ", chunked)
		if res.status != 400 || !strings.Contains(string(res.body), "larger than 64 KiB") {
			t.Errorf("chunked %v: a body of 64 KiB + 1: %d %s", chunked, res.status, res.body)
		}
		// Small bodies after large ones read only their own bytes.
		post(signIn, chunked).decode(t, 200, nil)
	}
}

// The answers of the v1.2 limits match openapi.yaml: 408 for a slow body,
// 431 for large headers, 429 for one address's sign-ins beyond its share.
func TestLimitAnswersMatchOpenAPI(t *testing.T) {
	doc := loadSpec(t)
	const wait = 300 * time.Millisecond
	p := platformtest.Start(t, platformtest.Options{BodyReadTimeout: wait,
		Shed:      server.ShedConfig{LoginsPerIP: server.ClassLimit{Concurrent: 1, Queue: -1}},
		WrapStore: func(st store.Store) store.Store { return slowSignIns{st, 500 * time.Millisecond} }})
	login := api.BasePath + "/auth/login"
	check := func(what string, req *http.Request, res *http.Response, body []byte, want int) {
		t.Helper()
		if res.StatusCode != want {
			t.Errorf("%s: %d %s, want %d", what, res.StatusCode, body, want)
		} else if err := matchSpec(doc, req.URL.Path, req, res, body); err != nil {
			t.Errorf("%s (%d) does not match openapi.yaml: %v\n%s", what, res.StatusCode, err, body)
		}
	}
	do := func(req *http.Request) (*http.Response, []byte) {
		t.Helper()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, body
	}
	signIn := func() *http.Request {
		req, _ := http.NewRequest("POST", p.URL()+login, strings.NewReader(`{"org":"acme","email":"admin@acme.test","password":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		return req
	}

	s := stallBody(t, p, login, "")
	res, body, _, _ := s.answer(t, wait+5*time.Second)
	check("slow body", signIn(), res, body, http.StatusRequestTimeout)

	for _, path := range []string{"/healthz", login} {
		req, _ := http.NewRequest("GET", p.URL()+path, nil)
		if path == login {
			req = signIn()
		}
		req.Header.Set("X-Pad", strings.Repeat("p", api.MaxHeaderBytes))
		res, body := do(req)
		check("large headers on "+path, req, res, body, http.StatusRequestHeaderFieldsTooLarge)
	}

	// One sign-in holds the address's only place (its store is slow); the
	// next from the same address, on the same replica, is refused at once.
	var wg sync.WaitGroup
	defer wg.Wait()
	for range p.Replicas() {
		wg.Go(func() {
			do(signIn())
		})
	}
	time.Sleep(200 * time.Millisecond)
	req := signIn()
	res, body = do(req)
	check("a second sign-in from one address", req, res, body, http.StatusTooManyRequests)
	if res.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}
