package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"sessiondesk/backend/api"
)

// platformProc is a real platformd process on loopback. The bench talks to
// it over HTTP only, exactly as the app does, so what it measures includes
// the server's JSON encoding and the kernel's loopback, not a shortcut.
type platformProc struct {
	cmd  *exec.Cmd
	URL  string
	logs bytes.Buffer
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// seedLarge creates a database holding one organization of the given size.
func seedLarge(ctx context.Context, bin, db, slug string, sessions, devices int) (time.Duration, error) {
	start := time.Now()
	cmd := exec.CommandContext(ctx, bin, "seed", "--db", db, "--large-org", slug,
		"--sessions", fmt.Sprint(sessions), "--devices", fmt.Sprint(devices))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("platformd seed: %w: %s", err, out)
	}
	return time.Since(start), nil
}

func startPlatform(ctx context.Context, bin, db string, extra ...string) (*platformProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p := &platformProc{URL: "http://" + addr}
	p.cmd = exec.Command(bin, append([]string{"serve", "--db", db, "--listen", addr}, extra...)...)
	p.cmd.Stdout = &p.logs
	p.cmd.Stderr = &p.logs
	dieWithParent(p.cmd)
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start platformd: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(p.URL + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return p, nil
			}
		}
		select {
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	p.stop()
	return nil, fmt.Errorf("platformd did not become healthy: %s", p.logs.String())
}

func (p *platformProc) stop() {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// apiClient is a bare HTTP client for the bench: no retries, so every
// failure is counted rather than hidden.
type apiClient struct {
	base  string
	token string
	http  *http.Client
	alt   []string // when set, requests go to these bases in turn
	next  atomic.Uint64
}

// alternate sends the client's requests to each of bases in turn (replicas
// behind an imaginary load balancer); one base changes nothing.
func (c *apiClient) alternate(bases []string) {
	if len(bases) > 1 {
		c.alt = bases
	}
}

func newAPIClient(base string, conns int) *apiClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns
	tr.MaxIdleConnsPerHost = conns
	return &apiClient{base: base, http: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// statusError is a non-2xx answer.
type statusError struct {
	Status     int
	Body       string
	RetryAfter time.Duration // from the Retry-After header, 0 without one
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

// do sends one request and decodes a 2xx JSON answer into out (when non-nil).
// It returns the raw body too, for the floor measurements.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	base := c.base
	if len(c.alt) > 0 {
		base = c.alt[(c.next.Add(1)-1)%uint64(len(c.alt))]
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		return raw, &statusError{Status: res.StatusCode, Body: strings.TrimSpace(string(raw)), RetryAfter: retryAfterOf(res.Header)}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return raw, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return raw, nil
}

func (c *apiClient) login(ctx context.Context, org, email string) (api.LoginResponse, error) {
	var res api.LoginResponse
	_, err := c.do(ctx, http.MethodPost, api.BasePath+"/auth/login", api.LoginRequest{
		Org: org, Email: email, Password: "demo-password",
		Device: api.LoginDevice{Name: "sdbench", Platform: "Linux"},
	}, &res)
	if err != nil {
		return res, fmt.Errorf("login %s: %w", email, err)
	}
	c.token = res.Token
	return res, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// freshCopy gives each destructive run its own copy of the seeded database
// (and of its WAL, if the seeding process left one).
func freshCopy(base, dir, name string) (string, error) {
	dst := filepath.Join(dir, name)
	for _, suffix := range []string{"", "-wal"} {
		if err := copyFile(base+suffix, dst+suffix); err != nil {
			if suffix != "" && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return "", err
		}
	}
	return dst, nil
}
