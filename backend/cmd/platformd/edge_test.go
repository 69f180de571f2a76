package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// Contract v1.2, issue 18 finding 5, against the real process writing its
// log to a real file: requests anyone can send add at most a few KB of log,
// whatever their paths, and headers are limited to api.MaxHeaderBytes.
func TestLogAndHeaderLimits(t *testing.T) {
	bin := buildPlatformd(t)
	dir := t.TempDir()
	logFile := filepath.Join(dir, "platformd.log")
	d := startDaemonLogging(t, bin, logFile, "--db", filepath.Join(dir, "p.db"), "--seed", "demo")
	sizeOf := func() int64 {
		fi, err := os.Stat(logFile)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	// send writes one raw request and returns the answer's status and body.
	send := func(req string) (int, []byte) {
		t.Helper()
		c, err := net.Dial("tcp", d.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		// The server may answer (and close) before reading all of a huge
		// request: a failed write is not the test's concern, the answer is.
		go io.WriteString(c, req)
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, body
	}
	before := sizeOf()

	// Three 200 KB paths, as the finding sent them.
	for range 3 {
		status, body := send("GET " + api.BasePath + "/" + strings.Repeat("a", 200<<10) + " HTTP/1.1\r\nHost: platformd\r\n\r\n")
		if status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("a 200 KB path: %d %.200s, want 431", status, body)
		}
	}
	// Three paths that pass the header limit but not the log's (4 KB of
	// two-byte characters, 12 KB percent-encoded): logged cut on a
	// character boundary, marked.
	long := api.BasePath + "/" + strings.Repeat("é", 2000)
	for range 3 {
		if status, body := send("GET " + (&url.URL{Path: long}).EscapedPath() + " HTTP/1.1\r\nHost: platformd\r\n\r\n"); status != http.StatusNotFound {
			t.Errorf("a 4 KB path: %d %.200s, want 404", status, body)
		}
	}
	// Every request before this one has been logged once this one is.
	if status, _ := send("GET /healthz?marker HTTP/1.1\r\nHost: platformd\r\n\r\n"); status != 200 {
		t.Fatalf("healthz: %d", status)
	}
	d.waitLog("path=/healthz", 1)
	grown := sizeOf() - before
	t.Logf("six long paths and a health check added %d bytes of log", grown)
	if grown > 4<<10 {
		t.Errorf("six long paths added %d bytes of log, want at most 4 KiB", grown)
	}
	pathRE := regexp.MustCompile(`msg=request method=GET path=("(?:[^"\\]|\\.)*"|\S+)`)
	cut := 0
	for _, line := range strings.Split(d.log(), "\n") {
		m := pathRE.FindStringSubmatch(line)
		if m == nil || !strings.Contains(m[1], "é") {
			continue
		}
		p, err := strconv.Unquote(m[1])
		if err != nil {
			t.Fatalf("logged path %s: %v", m[1], err)
		}
		kept, mark, ok := strings.Cut(p, "…")
		if !ok || mark != fmt.Sprintf("[cut, %d bytes]", len(long)) || len(kept) > api.MaxLoggedPathBytes ||
			len(kept) < api.MaxLoggedPathBytes-1 || !strings.HasPrefix(long, kept) || !utf8.ValidString(p) {
			t.Errorf("logged path %q (%d bytes before the mark), want the first %d bytes of the path on a character boundary and the mark", p, len(kept), api.MaxLoggedPathBytes)
		}
		cut++
	}
	if cut != 3 {
		t.Errorf("%d long paths logged, want 3:\n%s", cut, d.log())
	}

	// Headers: 17 KiB is refused with a JSON 431, 15 KiB is served.
	header := func(n int) string {
		return "GET /healthz HTTP/1.1\r\nHost: platformd\r\nX-Pad: " + strings.Repeat("p", n) + "\r\n\r\n"
	}
	status, body := send(header(17 << 10))
	var e api.ErrorBody
	if status != http.StatusRequestHeaderFieldsTooLarge || json.Unmarshal(body, &e) != nil || e.Error.Code != api.CodeHeadersTooLarge {
		t.Errorf("17 KiB of headers: %d %s, want 431 %s", status, body, api.CodeHeadersTooLarge)
	}
	if status, body := send(header(15 << 10)); status != http.StatusOK {
		t.Errorf("15 KiB of headers: %d %s, want 200", status, body)
	}
}

// Over HTTPS, platformd speaks HTTP/2, where the body's deadline is the
// stream's: a stalled body gets 408 after api.BodyReadTimeout while a
// sign-in on another stream of the same connection is answered at once,
// and the header limit holds there too.
func TestLimitsOverHTTP2(t *testing.T) {
	bin := buildPlatformd(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca := platformtest.NewCA(t, "Test Org Internal CA")
	ca.Issue(t, certFile, keyFile, "127.0.0.1")
	d := startDaemon(t, bin, "--db", filepath.Join(dir, "p.db"), "--seed", "demo", "--tls-cert", certFile, "--tls-key", keyFile,
		"--concurrent-logins", "1", "--queue", "0")
	caPEM, err := os.ReadFile(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true, MaxConnsPerHost: 1}}
	base := "https://" + d.addr

	// A sign-in whose body stops after its first byte, with the only
	// sign-in slot there is (--concurrent-logins 1, no queue).
	pr, pw := io.Pipe()
	defer pw.Close()
	slow, err := http.NewRequest("POST", base+api.BasePath+"/auth/login", pr)
	if err != nil {
		t.Fatal(err)
	}
	slow.ContentLength = 100
	slow.Header.Set("Content-Type", "application/json")
	type answer struct {
		res   *http.Response
		err   error
		after time.Duration
	}
	slowDone := make(chan answer, 1)
	sent := time.Now()
	go func() {
		res, err := hc.Do(slow)
		slowDone <- answer{res, err, time.Since(sent)}
	}()
	if _, err := pw.Write([]byte("{")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)

	signIn := `{"org":"acme","email":"admin@acme.test","password":"demo-password"}`
	t0 := time.Now()
	res, err := hc.Post(base+api.BasePath+"/auth/login", "application/json", strings.NewReader(signIn))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.ProtoMajor != 2 {
		t.Fatalf("sign-in beside a stalled body: %d over %s", res.StatusCode, res.Proto)
	}
	if took := time.Since(t0); took > 2*time.Second {
		t.Errorf("sign-in beside a stalled body took %v", took)
	}
	select {
	case a := <-slowDone:
		t.Fatalf("the stalled request was answered before its time: %v %v", a.res, a.err)
	default:
	}

	a := <-slowDone
	if a.err != nil {
		t.Fatalf("stalled request over HTTP/2: %v", a.err)
	}
	body, _ := io.ReadAll(a.res.Body)
	a.res.Body.Close()
	var e api.ErrorBody
	if a.res.StatusCode != http.StatusRequestTimeout || json.Unmarshal(body, &e) != nil || e.Error.Code != api.CodeRequestTimeout {
		t.Errorf("stalled request over HTTP/2: %d %s, want 408 %s", a.res.StatusCode, body, api.CodeRequestTimeout)
	}
	if a.after < api.BodyReadTimeout || a.after > api.BodyReadTimeout+3*time.Second {
		t.Errorf("stalled request answered after %v, want about %v", a.after, api.BodyReadTimeout)
	}

	// The header limit over HTTP/2, on the same connection.
	for _, c := range []struct{ pad, want int }{{17 << 10, 431}, {15 << 10, 200}} {
		req, _ := http.NewRequest("GET", base+"/healthz", nil)
		req.Header.Set("X-Pad", strings.Repeat("p", c.pad))
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != c.want || res.ProtoMajor != 2 {
			t.Errorf("%d bytes of header over HTTP/2: %d over %s, want %d", c.pad, res.StatusCode, res.Proto, c.want)
		}
	}
}
