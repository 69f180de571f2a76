// Package kratostest runs a real Ory Kratos v1.3.1 for tests: the binary
// build/scripts/lib.sh's ensure_kratos builds (SESSIONDESK_KRATOS_BIN), on
// SQLite in the test's own directory, with the config kept in config/ (both
// APIs on free loopback ports, password sign-in, bcrypt cost 4, random
// secrets). Identities are created through the admin API and sessions
// through the native login flow, as a real user's app would: nothing is
// written behind Kratos' back here.
//
// Without the variable a test fails when CI=true or when the test command
// asked for Kratos (SESSIONDESK_REQUIRE_KRATOS=1, set by build/scripts/test.sh);
// only a developer's plain `go test` without a Kratos build skips, and says
// how to get one — the convention of backend/store/postgres/pgtest.
package kratostest

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// EnvBin names the variable that holds the path of the kratos binary.
const EnvBin = "SESSIONDESK_KRATOS_BIN"

// Required reports whether a missing Kratos must fail the test.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("SESSIONDESK_REQUIRE_KRATOS") == "1"
}

// Binary returns the kratos binary's path, failing or skipping the test when
// there is none (see the package comment).
func Binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(EnvBin)
	if bin != "" {
		return bin
	}
	if Required() {
		t.Fatalf("%s is not set: run the tests through build/scripts/test.sh, whose ensure_kratos (build/scripts/lib.sh) builds Ory Kratos and sets it", EnvBin)
	}
	t.Skipf("%s is not set; `source build/scripts/lib.sh && ensure_kratos` builds Ory Kratos v1.3.1 (cached) and sets it", EnvBin)
	return ""
}

//go:embed config/kratos.yml.tmpl config/identity.schema.json
var configFS embed.FS

// ReadyTimeout bounds how long Launch waits for /admin/health/ready.
const ReadyTimeout = 60 * time.Second

// stopGrace is how long Stop waits after SIGTERM before it kills.
const stopGrace = 10 * time.Second

// Server is one running Kratos. Its methods are safe for concurrent use.
type Server struct {
	AdminURL  string // e.g. http://127.0.0.1:41234 (no trailing slash)
	PublicURL string
	Dir       string // config, identity schema, kratos.db and kratos.log
	DBPath    string
	LogPath   string

	cmd      *exec.Cmd
	exited   chan struct{} // closed when the process has exited
	waitErr  error         // the process's exit, valid once exited is closed
	stopOnce sync.Once
	stopErr  error
	hc       *http.Client
}

// Start launches Kratos in t.TempDir() and stops it when the test ends; on a
// failed test it logs the end of Kratos' log.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	s, err := Launch(bin, t.TempDir())
	if err != nil {
		t.Fatalf("kratostest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("kratostest: stop: %v", err)
		}
		if t.Failed() {
			t.Logf("kratostest: end of %s:\n%s", s.LogPath, s.LogTail(80))
		}
	})
	return s
}

// Launch writes the config into dir, migrates a fresh SQLite database there
// and starts `kratos serve` on two free loopback ports, returning once the
// admin API says it is ready. The caller must Stop it. Ports are chosen by
// binding port 0 and closing; should another process take one in between,
// Launch tries again with new ones.
func Launch(bin, dir string) (*Server, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var s *Server
		if s, err = launch(bin, dir); err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortTaken) {
			return nil, err
		}
	}
	return nil, err
}

var errPortTaken = errors.New("a port was taken before Kratos could bind it")

func launch(bin, dir string) (*Server, error) {
	if bin == "" {
		return nil, fmt.Errorf("no kratos binary given (%s)", EnvBin)
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	cfgPath, dsn, err := writeConfig(dir, ports[0], ports[1])
	if err != nil {
		return nil, err
	}
	s := &Server{
		PublicURL: "http://127.0.0.1:" + strconv.Itoa(ports[0]),
		AdminURL:  "http://127.0.0.1:" + strconv.Itoa(ports[1]),
		Dir:       dir,
		DBPath:    filepath.Join(dir, "kratos.db"),
		LogPath:   filepath.Join(dir, "kratos.log"),
		exited:    make(chan struct{}),
		hc:        &http.Client{Timeout: 30 * time.Second},
	}
	logf, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor

	// A minimal environment: Kratos reads any variable named like a config
	// key (LOG_LEVEL, SERVE_ADMIN_PORT, …) as an override, so the test
	// runner's must not reach it. SQA_OPT_OUT: no usage statistics sent to
	// Ory from tests.
	env := []string{"DSN=" + dsn, "SQA_OPT_OUT=true", "HOME=" + dir, "TMPDIR=" + dir, "PATH=" + os.Getenv("PATH")}

	migrate := exec.Command(bin, "migrate", "sql", "-e", "--yes", "-c", cfgPath)
	migrate.Env, migrate.Stdout, migrate.Stderr, migrate.Dir = env, logf, logf, dir
	if err := migrate.Run(); err != nil {
		return nil, fmt.Errorf("kratos migrate sql: %v (log: %s)\n%s", err, s.LogPath, s.LogTail(40))
	}

	// --dev: Kratos raises a bcrypt cost under 12 to 12 outside dev mode
	// (config.HasherBcrypt), which made each sign-in take ~1 s here; the
	// tests sign in hundreds of times. It also relaxes cookie security,
	// which the native (token) flows the tests use do not involve.
	s.cmd = exec.Command(bin, "serve", "-c", cfgPath, "--dev", "--sqa-opt-out")
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr, s.cmd.Dir = env, logf, logf, dir
	s.cmd.SysProcAttr = dieWithParent()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start kratos serve: %w", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(); err != nil {
		_ = s.Stop()
		if strings.Contains(s.LogTail(40), "address already in use") {
			return nil, errPortTaken
		}
		return nil, fmt.Errorf("%v (log: %s)\n%s", err, s.LogPath, s.LogTail(40))
	}
	return s, nil
}

func (s *Server) waitReady() error {
	deadline := time.Now().Add(ReadyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("kratos serve exited before it was ready: %v", s.waitErr)
		default:
		}
		resp, err := s.hc.Get(s.AdminURL + "/admin/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("kratos serve not ready within %s", ReadyTimeout)
}

// Stop ends Kratos (SIGTERM, then SIGKILL after a grace period) and waits
// for it to exit; its directory stays. Later calls return the first result,
// so a test may stop it early (to see the app offline) and still have the
// cleanup call it.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		select {
		case <-s.exited:
			return // already gone: nothing to stop
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(stopGrace):
			_ = s.cmd.Process.Kill()
			<-s.exited
			s.stopErr = fmt.Errorf("kratos did not stop within %s of SIGTERM; killed", stopGrace)
		}
		s.hc.CloseIdleConnections()
	})
	return s.stopErr
}

// LogTail returns the last n lines of Kratos' log (migration and serve).
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePorts returns n distinct free loopback ports; the listeners stay open
// until all are chosen so that the kernel cannot hand out one twice.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// writeConfig fills the config template into dir (with fresh secrets) and
// copies the identity schema beside it; it returns the config's path and
// the DSN.
func writeConfig(dir string, publicPort, adminPort int) (string, string, error) {
	tmpl, err := template.ParseFS(configFS, "config/kratos.yml.tmpl")
	if err != nil {
		return "", "", err
	}
	schema, err := configFS.ReadFile("config/identity.schema.json")
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "identity.schema.json"), schema, 0o600); err != nil {
		return "", "", err
	}
	var cfg bytes.Buffer
	err = tmpl.Execute(&cfg, map[string]any{
		"Dir":          dir,
		"PublicPort":   publicPort,
		"AdminPort":    adminPort,
		"CookieSecret": secret(),
		"CipherSecret": secret(),
	})
	if err != nil {
		return "", "", err
	}
	path := filepath.Join(dir, "kratos.yml")
	if err := os.WriteFile(path, cfg.Bytes(), 0o600); err != nil {
		return "", "", err
	}
	return path, "sqlite://" + filepath.Join(dir, "kratos.db") + "?_fk=true", nil
}

// secret is 32 random hex characters (Kratos' cipher wants exactly 32).
func secret() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// CreateIdentity creates a person through POST /admin/identities with the
// schema's traits and a password, and returns the identity's ID.
func (s *Server) CreateIdentity(ctx context.Context, email, name, password string) (string, error) {
	body := map[string]any{
		"schema_id": "person",
		"traits":    map[string]string{"email": email, "name": name},
		"credentials": map[string]any{
			"password": map[string]any{"config": map[string]string{"password": password}},
		},
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := s.call(ctx, http.MethodPost, s.AdminURL+"/admin/identities", nil, body, http.StatusCreated, &out); err != nil {
		return "", fmt.Errorf("create identity %s: %w", email, err)
	}
	return out.ID, nil
}

// Device is where a sign-in comes from, as Kratos records it in the
// session's devices: the User-Agent header, the client IP (True-Client-IP,
// which Kratos reads first), and the location headers a Cloudflare proxy
// would set (Cf-Ipcity, Cf-Ipcountry). Zero fields are not sent; without an
// IP Kratos records the connection's address ("127.0.0.1:port").
type Device struct {
	UserAgent string
	IP        string
	City      string
	Country   string
}

// Session is what a successful sign-in gives the signed-in app.
type Session struct {
	Token      string // the session token (X-Session-Token)
	ID         string
	IdentityID string
}

// Login signs in with the native (API) login flow — GET
// /self-service/login/api for a flow, then POST /self-service/login?flow=ID
// with the password method — and returns the new session.
func (s *Server) Login(ctx context.Context, email, password string, from Device) (Session, error) {
	h := http.Header{}
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	set("User-Agent", from.UserAgent)
	set("True-Client-IP", from.IP)
	set("Cf-Ipcity", from.City)
	set("Cf-Ipcountry", from.Country)

	var flow struct {
		ID string `json:"id"`
	}
	if err := s.call(ctx, http.MethodGet, s.PublicURL+"/self-service/login/api", h, nil, http.StatusOK, &flow); err != nil {
		return Session{}, fmt.Errorf("login flow: %w", err)
	}
	body := map[string]string{"method": "password", "identifier": email, "password": password}
	var out struct {
		SessionToken string `json:"session_token"`
		Session      struct {
			ID       string `json:"id"`
			Identity struct {
				ID string `json:"id"`
			} `json:"identity"`
		} `json:"session"`
	}
	u := s.PublicURL + "/self-service/login?flow=" + url.QueryEscape(flow.ID)
	if err := s.call(ctx, http.MethodPost, u, h, body, http.StatusOK, &out); err != nil {
		return Session{}, fmt.Errorf("login %s: %w", email, err)
	}
	if out.SessionToken == "" || out.Session.ID == "" {
		return Session{}, fmt.Errorf("login %s: the answer holds no session token", email)
	}
	return Session{Token: out.SessionToken, ID: out.Session.ID, IdentityID: out.Session.Identity.ID}, nil
}

// Whoami asks GET /sessions/whoami with the token: true when Kratos accepts
// it (200), false when it refuses it (401); anything else is an error.
func (s *Server) Whoami(ctx context.Context, token string) (bool, error) {
	h := http.Header{"X-Session-Token": {token}}
	err := s.call(ctx, http.MethodGet, s.PublicURL+"/sessions/whoami", h, nil, http.StatusOK, nil)
	var se *StatusError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &se) && se.Status == http.StatusUnauthorized:
		return false, nil
	}
	return false, fmt.Errorf("whoami: %w", err)
}

// StatusError is an answer with another status than the one expected.
type StatusError struct {
	Status int
	Body   string // at most 1 KiB of it
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

// call sends one JSON request and decodes the answer when it has the
// wanted status.
func (s *Server) call(ctx context.Context, method, u string, h http.Header, body any, want int, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		if len(data) > 1024 {
			data = data[:1024]
		}
		return &StatusError{Status: resp.StatusCode, Body: string(data)}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// Pid is the kratos serve process's id (0 before it started).
func (s *Server) Pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}
