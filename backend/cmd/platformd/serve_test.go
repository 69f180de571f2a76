package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sessiondesk/backend/platformtest"
)

// built is this command compiled once for the tests that need a real
// process: signals are only real when they reach one, and only a process
// can run as another user.
var built struct {
	once     sync.Once
	dir, bin string
	err      error
	out      []byte
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

func buildPlatformd(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "platformd-bin-"); built.err != nil {
			return
		}
		// Readable and executable by every user: one test runs it as nobody.
		if built.err = os.Chmod(built.dir, 0o755); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "platformd")
		built.out, built.err = exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

// daemon is a running platformd whose stderr the test reads.
type daemon struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}
	err    error // of Wait, once exited is closed

	mu   sync.Mutex
	logs []string
}

var listenRE = regexp.MustCompile(`msg="platformd listening" addr=(\S+)`)

func startDaemon(t *testing.T, bin string, args ...string) *daemon {
	t.Helper()
	return startDaemonLogging(t, bin, "", args...)
}

// startDaemonLogging starts platformd with its log (stderr) written to the
// file logFile, as a service manager would, instead of a pipe ("": a pipe).
// The test reads the file as it grows.
func startDaemonLogging(t *testing.T, bin, logFile string, args ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, cmd: exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...), exited: make(chan struct{})}
	var logs io.Reader
	if logFile == "" {
		stderr, err := d.cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		logs = stderr
	} else {
		f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close() // the process has its own descriptor
		d.cmd.Stderr = f
		r, err := os.Open(logFile)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		logs = &tailReader{f: r, exited: d.exited}
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(logs)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20) // a request's log line can be long
		for sc.Scan() {
			line := sc.Text()
			d.mu.Lock()
			d.logs = append(d.logs, line)
			d.mu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
		if logFile == "" { // Wait only once the pipe is read to its end
			d.err = d.cmd.Wait()
			close(d.exited)
		}
	}()
	if logFile != "" {
		go func() {
			d.err = d.cmd.Wait()
			close(d.exited)
		}()
	}
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			d.cmd.Process.Kill()
			<-d.exited
		}
	})
	select {
	case d.addr = <-addr:
	case <-d.exited:
		t.Fatalf("platformd exited before listening: %v\n%s", d.err, d.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("platformd did not listen:\n%s", d.log())
	}
	return d
}

// tailReader reads a file that another process appends to, like tail -f,
// until that process has exited and the file is read to its end.
type tailReader struct {
	f      *os.File
	exited <-chan struct{}
}

func (r *tailReader) Read(p []byte) (int, error) {
	for {
		n, err := r.f.Read(p)
		if n > 0 || !errors.Is(err, io.EOF) {
			return n, err
		}
		select {
		case <-r.exited:
			return r.f.Read(p) // what was written last, then EOF
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (d *daemon) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.logs, "\n")
}

// waitLog waits until a log line contains s, n times in all.
func (d *daemon) waitLog(s string, n int) {
	d.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Count(d.log(), s) >= n {
			return
		}
	}
	d.t.Fatalf("no log line %q (x%d):\n%s", s, n, d.log())
}

func (d *daemon) signal(sig syscall.Signal) {
	d.t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.t.Fatal(err)
	}
}

func (d *daemon) waitExit() {
	d.t.Helper()
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		d.t.Fatalf("platformd did not exit:\n%s", d.log())
	}
	if d.err != nil {
		d.t.Fatalf("platformd exit: %v\n%s", d.err, d.log())
	}
}

// TestSIGTERMDrains sends a real SIGTERM while a sign-in is in flight (its
// body half sent): new connections are refused at once, the sign-in still
// completes (a store write during the drain), and then the process closes the
// store and exits 0.
func TestSIGTERMDrains(t *testing.T) {
	bin := buildPlatformd(t)
	db := filepath.Join(t.TempDir(), "platform.db")
	d := startDaemon(t, bin, "--db", db, "--seed", "demo")
	// A habitual kill -HUP does not end a plain-HTTP platformd.
	d.signal(syscall.SIGHUP)
	d.waitLog("SIGHUP ignored", 1)

	body := `{"org":"acme","email":"admin@acme.test","password":"demo-password","device":{"name":"drain test"}}`
	conn, err := net.Dial("tcp", d.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/auth/login HTTP/1.1\r\nHost: platformd\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:20])
	time.Sleep(200 * time.Millisecond) // the server has read the headers: the request is in flight

	d.signal(syscall.SIGTERM)
	d.waitLog("shutting down", 1)
	// Only a refusal counts; any other dial error (a timeout on a loaded
	// machine) is tried again until the deadline, and is reported if the
	// refusal never comes.
	refused := false
	var lastErr error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !refused; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", d.addr, time.Second)
		if err != nil {
			refused, lastErr = errors.Is(err, syscall.ECONNREFUSED), err
			continue
		}
		lastErr = nil
		c.Close()
	}
	if !refused {
		t.Fatalf("new connections are still accepted after SIGTERM (last dial error: %v)", lastErr)
	}
	select {
	case <-d.exited:
		t.Fatalf("platformd exited with a request in flight:\n%s", d.log())
	default:
	}

	if _, err := io.WriteString(conn, body[20:]); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request was dropped: %v", err)
	}
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.Contains(data, []byte(`"token"`)) {
		t.Fatalf("in-flight sign-in = %d %s", res.StatusCode, data)
	}
	d.waitExit()
	if !strings.Contains(d.log(), `msg=stopped`) {
		t.Errorf("no clean stop logged:\n%s", d.log())
	}
	// SQLite removes the WAL file when the last connection closes: the
	// store was closed, not abandoned.
	if _, err := os.Stat(db + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the database was not closed (WAL file left: %v)", err)
	}
}

// TestTLSServeAndReload serves HTTPS from a test CA's certificate, swaps
// the pair on disk and sends SIGHUP: a new connection gets the new
// certificate, an established one keeps working, and a broken pair is
// refused while the current one stays in use.
func TestTLSServeAndReload(t *testing.T) {
	bin := buildPlatformd(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca := platformtest.NewCA(t, "Test Org Internal CA")
	first := ca.Issue(t, certFile, keyFile, "127.0.0.1", "localhost")
	d := startDaemon(t, bin, "--db", filepath.Join(dir, "p.db"), "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.Contains(d.log(), "scheme=https") {
		t.Fatalf("not serving https:\n%s", d.log())
	}
	caPEM, err := os.ReadFile(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	dial := func() *tls.Conn {
		t.Helper()
		c, err := tls.Dial("tcp", d.addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatalf("TLS dial: %v", err)
		}
		return c
	}
	serialOf := func(c *tls.Conn) *big.Int { return c.ConnectionState().PeerCertificates[0].SerialNumber }
	healthz := func(c *tls.Conn, r *bufio.Reader) {
		t.Helper()
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
			t.Fatalf("write on an open connection: %v", err)
		}
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("read on an open connection: %v", err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("healthz = %d", res.StatusCode)
		}
	}

	old := dial()
	defer old.Close()
	oldR := bufio.NewReader(old)
	healthz(old, oldR)
	if serialOf(old).Cmp(first) != 0 {
		t.Fatal("first connection does not see the first certificate")
	}
	// Without the CA the certificate is refused.
	if c, err := tls.Dial("tcp", d.addr, &tls.Config{ServerName: "127.0.0.1"}); err == nil {
		c.Close()
		t.Fatal("a client without the test CA accepted the certificate")
	}

	second := ca.Issue(t, certFile, keyFile, "127.0.0.1", "localhost")
	d.signal(syscall.SIGHUP)
	d.waitLog("TLS certificate reloaded", 1)
	fresh := dial()
	defer fresh.Close()
	healthz(fresh, bufio.NewReader(fresh))
	if serialOf(fresh).Cmp(second) != 0 {
		t.Errorf("a new connection after SIGHUP got serial %v, want the new %v", serialOf(fresh), second)
	}
	healthz(old, oldR) // the established connection was not dropped
	if serialOf(old).Cmp(first) != 0 {
		t.Error("the established connection changed certificate")
	}

	// A broken pair (renewal half done) is refused; the current one stays.
	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGHUP)
	d.waitLog("TLS certificate reload failed", 1)
	again := dial()
	defer again.Close()
	if serialOf(again).Cmp(second) != 0 {
		t.Error("a failed reload changed the certificate in use")
	}
	healthz(again, bufio.NewReader(again))

	d.signal(syscall.SIGTERM)
	d.waitExit()
}

// TestStartOnUnwritablePath starts platformd as an unprivileged user
// (nobody, uid 65534) on a directory and on a file it cannot write: it
// exits 1 naming the path, the user and what is wrong, not SQLite's
// "attempt to write a readonly database".
func TestStartOnUnwritablePath(t *testing.T) {
	bin := buildPlatformd(t)
	const nobody = 65534
	// t.TempDir() is private to root; the cases live in a directory nobody
	// can enter.
	base, err := os.MkdirTemp("", "platformd-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	mkdir := func(name string, mode os.FileMode) string {
		d := filepath.Join(base, name)
		if err := os.Mkdir(d, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return d
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	rootsDir := mkdir("roots", 0o755) // root's, not writable by nobody
	shared := mkdir("shared", 0o777)  // writable by nobody...
	rootsFile := filepath.Join(shared, "platform.db")
	if err := os.WriteFile(rootsFile, nil, 0o600); err != nil { // ...but this file is root's
		t.Fatal(err)
	}
	// nobody's own file in root's directory: SQLite opens it, then fails
	// to create the -wal beside it ("attempt to write a readonly database").
	ownFileDir := mkdir("own-file", 0o755)
	ownFile := filepath.Join(ownFileDir, "platform.db")
	if err := os.WriteFile(ownFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(ownFile, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, db string
		want     string
	}{
		{"writable file in a read-only directory", ownFile,
			"cannot write " + ownFile + ": directory " + ownFileDir + " is not writable by uid 65534 (permission denied, owner uid 0); SQLite keeps its -wal and -shm files beside the database"},
		{"directory", filepath.Join(rootsDir, "platform.db"),
			"cannot write " + filepath.Join(rootsDir, "platform.db") + ": directory " + rootsDir + " is not writable by uid 65534 (permission denied, owner uid 0)"},
		{"file", rootsFile,
			"cannot write " + rootsFile + ": the file " + rootsFile + " is not writable by uid 65534 (permission denied, mode 0600, owner uid 0)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, "serve", "--db", c.db, "--listen", "127.0.0.1:0")
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit: %v (want status 1)\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) || strings.Contains(stderr.String(), "readonly database") {
				t.Errorf("stderr:\n%s\nwant it to say: %s", stderr.String(), c.want)
			}
		})
	}
}
