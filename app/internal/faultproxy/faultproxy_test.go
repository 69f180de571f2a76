package faultproxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sessiondesk/app/internal/faultproxy"
)

func upstream(t *testing.T, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFaults(t *testing.T) {
	body := strings.Repeat("x", 64<<10)
	srv := upstream(t, body)
	fp, err := faultproxy.Start(srv.URL, faultproxy.Faults{})
	if err != nil {
		t.Fatal(err)
	}
	defer fp.Close()
	client := &http.Client{Timeout: 5 * time.Second}
	get := func() (int, string, error) {
		resp, err := client.Get(fp.URL() + "/x")
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}

	t.Run("clean", func(t *testing.T) {
		if code, got, err := get(); err != nil || code != 200 || got != body {
			t.Fatalf("%d %d bytes %v", code, len(got), err)
		}
	})
	t.Run("reset after the headers and half the body", func(t *testing.T) {
		fp.Set(faultproxy.Faults{ResetRate: 1})
		code, got, err := get()
		if err == nil || code != 200 || len(got) == 0 || len(got) >= len(body) {
			t.Fatalf("status %d, %d of %d bytes, err %v: want headers, part of the body, then an error", code, len(got), len(body), err)
		}
	})
	t.Run("status with Retry-After", func(t *testing.T) {
		fp.Set(faultproxy.Faults{Status: 429, StatusCount: 1, RetryAfter: 120 * time.Second})
		resp, err := client.Get(fp.URL() + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "120" {
			t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if code, _, err := get(); err != nil || code != 200 {
			t.Fatalf("after the count: %d %v", code, err)
		}
	})
	t.Run("throttled", func(t *testing.T) {
		fp.Set(faultproxy.Faults{BytesPerSec: 128 << 10})
		start := time.Now()
		if _, got, err := get(); err != nil || got != body {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 400*time.Millisecond {
			t.Fatalf("64 KB at 128 KB/s took %v", took)
		}
	})
	t.Run("watched", func(t *testing.T) {
		var mu sync.Mutex
		var seen []string
		fp.Set(faultproxy.Faults{Match: func(path string) bool { return path == "/cut" }, ResetRate: 1,
			Watch: func(r *http.Request, cut bool) {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, fmt.Sprintf("%s?%s cut=%v", r.URL.Path, r.URL.RawQuery, cut))
			}})
		if _, _, err := get(); err != nil {
			t.Fatal(err)
		}
		if resp, err := client.Get(fp.URL() + "/cut?cursor=c1"); err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				t.Fatal("the matched answer was not cut")
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if want := []string{"/x? cut=false", "/cut?cursor=c1 cut=true"}; !slices.Equal(seen, want) {
			t.Fatalf("watched %q, want %q", seen, want)
		}
	})
	t.Run("black hole", func(t *testing.T) {
		fp.Set(faultproxy.Faults{BlackHole: true})
		c := &http.Client{Timeout: 300 * time.Millisecond}
		_, err := c.Get(fp.URL() + "/x")
		if err == nil || fp.Holes.Load() == 0 {
			t.Fatalf("err %v, holes %d", err, fp.Holes.Load())
		}
	})
}
