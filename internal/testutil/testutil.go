// Package testutil holds the small helpers that tests across this module
// need alike (a log sink several goroutines write to, a clock a test moves by
// hand, waiting for a condition), so that each is written once. It imports
// nothing of the module's own, so any test package may use it.
package testutil

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer safe for concurrent writers, such as a
// server's or a desk's logger writing from several goroutines while the
// test reads what was logged.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Clock is a clock a test moves by hand; its zero value starts at the zero
// time, NewClock at a fixed date.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a Clock at 2026-11-27 08:00 UTC, so that tests' times read
// the same from run to run.
func NewClock() *Clock {
	return &Clock{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)}
}

// Now is the clock's time; pass c.Now where a func() time.Time is wanted.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// WaitFor polls ok every 5 ms until it holds and returns how long that took,
// failing the test with what when d passes first.
func WaitFor(t testing.TB, d time.Duration, what string, ok func() bool) time.Duration {
	t.Helper()
	began := time.Now()
	for !ok() {
		if time.Since(began) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(began)
}

// CheckSealedFiles checks files at rest: each path in want exists and is
// not empty, glob matches at least one file, and every file it matches is
// mode 0600 and holds none of the needles in plaintext ("" is skipped).
// when names the moment (open, closed) in failures.
func CheckSealedFiles(t testing.TB, when string, want []string, glob string, needles []string) {
	t.Helper()
	for _, f := range want {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Fatalf("%s: %s missing or empty: %v", when, filepath.Base(f), err)
		}
	}
	files, _ := filepath.Glob(glob)
	if len(files) == 0 {
		t.Fatalf("%s: no files match %s", when, glob)
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %s has mode %v", when, f, fi.Mode().Perm())
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if n != "" && bytes.Contains(data, []byte(n)) {
				t.Errorf("%s: %s holds %q in plaintext", when, filepath.Base(f), n)
			}
		}
	}
}
