package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/seed"
	"sessiondesk/backend/store/sqlite"
)

// The 100,000-session benchmarks share one seeded SQLite file per test
// binary run (seeding takes seconds); each benchmark serves its own copy, so
// the sessions its logins and writes add do not leak into the others.
const (
	largeSessions = 100_000
	largeDevices  = 20_000
)

var largeFixture struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if largeFixture.dir != "" {
		os.RemoveAll(largeFixture.dir)
	}
	os.Exit(code)
}

// largeTemplate returns the path of the seeded 100k template database.
func largeTemplate(b *testing.B) string {
	b.Helper()
	largeFixture.once.Do(func() {
		dir, err := os.MkdirTemp("", "platformd-bench-")
		if err != nil {
			largeFixture.err = err
			return
		}
		largeFixture.dir = dir
		largeFixture.path = filepath.Join(dir, "large.db")
		largeFixture.err = func() error {
			ctx := context.Background()
			db, err := sqlite.Open(ctx, largeFixture.path, sqlite.Options{})
			if err != nil {
				return err
			}
			defer db.Close()
			_, err = seed.Large(ctx, db, time.Now(), seed.LargeOptions{Slug: "big", Sessions: largeSessions, Devices: largeDevices, PasswordHash: platformtest.PasswordHash(b)})
			return err
		}()
	})
	if largeFixture.err != nil {
		b.Fatal(largeFixture.err)
	}
	return largeFixture.path
}

func copyFile(b *testing.B, src, dst string) {
	b.Helper()
	for _, suffix := range []string{"", "-wal"} {
		in, err := os.Open(src + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		out, err := os.OpenFile(dst+suffix, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			b.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime is the process's CPU time so far (user + system, all threads).
// The benchmarks report it per operation beside the wall time: on a shared
// machine the wall time swings with the neighbours' load, CPU time much
// less. It covers both ends of the loopback, as the server runs in process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports CPU ms per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// largeServer serves a fresh copy of the template with the real handler on
// loopback and returns a client signed in as the org's admin.
func largeServer(b *testing.B) *client {
	b.Helper()
	path := filepath.Join(b.TempDir(), "large.db")
	copyFile(b, largeTemplate(b), path)
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	c := newClient(b, platformtest.Start(b, platformtest.Options{Store: db, Seed: "none"}), "")
	var res api.LoginResponse
	c.do("POST", api.BasePath+"/auth/login", api.LoginRequest{Org: "big", Email: "admin@big.test", Password: seed.DemoPassword}).decode(b, 200, &res)
	c.token = res.Token
	return c
}

// BenchmarkSessionsPage measures one 100-item page over HTTP (JSON, user
// joined) in an organization of 100,000 sessions.
func BenchmarkSessionsPage(b *testing.B) {
	c := largeServer(b)
	b.ResetTimer()
	start := cpuTime()
	for range b.N {
		c.do("GET", api.BasePath+"/sessions?limit=100", nil).decode(b, 200, nil)
	}
	reportCPU(b, start)
}

// BenchmarkWalkSessions pages through 100,000 sessions 1,000 at a time and
// decodes every page, as a client does.
func BenchmarkWalkSessions(b *testing.B) {
	c := largeServer(b)
	b.ResetTimer()
	start := cpuTime()
	for range b.N {
		if n := len(c.allSessions("status=all", 1000)); n != largeSessions+1 {
			b.Fatalf("walked %d", n)
		}
	}
	reportCPU(b, start)
}

// BenchmarkWalkSessionsRaw is the walk without decoding the items, so the
// server's share stands out: it reads next_cursor only. (Test binaries run
// at Go's default GOGC; platformd itself runs at 400, see its main.)
func BenchmarkWalkSessionsRaw(b *testing.B) {
	c := largeServer(b)
	b.ResetTimer()
	start := cpuTime()
	defer reportCPU(b, start)
	for range b.N {
		cursor := ""
		pages := 0
		for {
			q := "limit=1000"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			res := c.do("GET", api.BasePath+"/sessions?"+q, nil)
			if res.status != 200 {
				b.Fatalf("status %d: %.200s", res.status, res.body)
			}
			// next_cursor is the list object's last member: read only it.
			i := bytes.LastIndex(res.body, []byte(`"next_cursor":`))
			var next *string
			if i < 0 || json.Unmarshal(bytes.TrimSuffix(bytes.TrimSpace(res.body[i+len(`"next_cursor":`):]), []byte("}")), &next) != nil {
				b.Fatalf("no next_cursor in %.200s", res.body)
			}
			pages++
			if next == nil {
				break
			}
			cursor = *next
		}
		if pages != largeSessions/1000+1 {
			b.Fatalf("walked %d pages", pages)
		}
	}
}

// BenchmarkSessionsDeltaNothingNew is the delta feed with nothing new.
func BenchmarkSessionsDeltaNothingNew(b *testing.B) {
	c := largeServer(b)
	since := url.QueryEscape(time.Now().UTC().Format(time.RFC3339Nano))
	b.ResetTimer()
	start := cpuTime()
	defer reportCPU(b, start)
	for range b.N {
		var page api.SessionList
		c.do("GET", api.BasePath+"/sessions?updated_since="+since, nil).decode(b, 200, &page)
		if len(page.Items) != 0 {
			b.Fatalf("%d items", len(page.Items))
		}
	}
}

// BenchmarkTerminateAllHTTP ends 100,000 sessions with one request, on a
// fresh copy of the database (and a fresh process-like cold connection) each
// time.
func BenchmarkTerminateAllHTTP(b *testing.B) {
	var cpu time.Duration
	for range b.N {
		b.StopTimer()
		c := largeServer(b)
		b.StartTimer()
		start := cpuTime()
		var res api.TerminateAllResponse
		c.do("POST", api.BasePath+"/sessions/terminate-all", map[string]any{"keep_current": true}).decode(b, http.StatusOK, &res)
		cpu += cpuTime() - start
		if res.Terminated != largeSessions {
			b.Fatalf("terminated %d", res.Terminated)
		}
	}
	b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
