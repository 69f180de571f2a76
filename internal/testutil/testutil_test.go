package testutil_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"sessiondesk/internal/testutil"
)

func TestSyncBufferKeepsEveryConcurrentWrite(t *testing.T) {
	var b testutil.SyncBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { fmt.Fprintf(&b, "line %d\n", i) })
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 8 {
		t.Fatalf("%d lines, want 8: %q", n, b.String())
	}
}

func TestClockMovesOnlyWhenTold(t *testing.T) {
	c := testutil.NewClock()
	start := c.Now()
	if !c.Now().Equal(start) {
		t.Fatal("the clock moved by itself")
	}
	c.Advance(time.Hour)
	if got := c.Now().Sub(start); got != time.Hour {
		t.Fatalf("advanced %v, want 1h", got)
	}
	c.Set(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Set: %v, want %v", c.Now(), start)
	}
}

func TestWaitForReturnsOnceTheConditionHolds(t *testing.T) {
	n := 0
	took := testutil.WaitFor(t, time.Second, "third poll", func() bool { n++; return n >= 3 })
	if n != 3 || took <= 0 {
		t.Fatalf("polled %d times in %v, want 3 polls", n, took)
	}
}
