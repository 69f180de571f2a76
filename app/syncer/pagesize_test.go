package syncer

import (
	"testing"
	"time"
)

// The page size halves on slow pages down to minPage and grows back, by
// doubling, on quick full ones up to the configured size.
func TestPageSizeAdaptsBothWays(t *testing.T) {
	s := New(Config{PageSize: 1000})
	steps := []struct {
		took time.Duration
		rows int
		want int
	}{
		{3 * time.Second, 1000, 500},
		{3 * time.Second, 500, 250},
		{3 * time.Second, 250, 125},
		{3 * time.Second, 125, 62},
		{3 * time.Second, 62, 50},
		{3 * time.Second, 50, 50},        // never below minPage
		{time.Second, 50, 50},            // neither slow nor quick: kept
		{100 * time.Millisecond, 20, 50}, // quick but not full (end of the feed): kept
		{100 * time.Millisecond, 50, 100},
		{100 * time.Millisecond, 100, 200},
		{100 * time.Millisecond, 200, 400},
		{100 * time.Millisecond, 400, 800},
		{100 * time.Millisecond, 800, 1000}, // never above PageSize
		{100 * time.Millisecond, 1000, 1000},
	}
	for i, st := range steps {
		s.adapt(st.took, st.rows, s.pageSize)
		if s.pageSize != st.want {
			t.Fatalf("step %d (%v, %d rows): page size %d, want %d", i, st.took, st.rows, s.pageSize, st.want)
		}
	}
	// A quick full page asked smaller than the adapted size (the audit
	// log's probe) does not grow it.
	s.pageSize = 100
	if s.adapt(100*time.Millisecond, auditProbe, auditProbe); s.pageSize != 100 {
		t.Fatalf("after a quick probe: page size %d, want 100", s.pageSize)
	}
}
