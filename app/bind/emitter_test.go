package bind

import (
	"sync"
	"testing"
	"time"
)

// A burst of changes is told at once and then once more after it, within
// changeEvery, per kind of change; a change after a quiet spell at once.
func TestChangesAreToldAtOnceThenOnceAfterABurst(t *testing.T) {
	em := &countingEmitter{n: map[string]int{}}
	ev := &Events{}
	ev.SetEmitter(em)
	for range 50 {
		ev.Changed("sessions")
	}
	ev.Changed("devices")
	if got := em.count(EventSessionsChanged); got != 1 {
		t.Fatalf("sessions told %d times during the burst, want 1 (at once)", got)
	}
	if got := em.count(EventDevicesChanged); got != 1 {
		t.Fatalf("devices told %d times, want 1: a kind of change is not held back by another", got)
	}
	deadline := time.Now().Add(changeEvery + 2*time.Second)
	for em.count(EventSessionsChanged) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the burst's last changes were never told")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(changeEvery + 200*time.Millisecond)
	if got := em.count(EventSessionsChanged); got != 2 {
		t.Fatalf("sessions told %d times after a burst of 50, want 2", got)
	}
	ev.Changed("sessions") // quiet for longer than changeEvery: at once
	if got := em.count(EventSessionsChanged); got != 3 {
		t.Fatalf("a change after a quiet spell was told %d times so far, want it told at once", got-2)
	}
	ev.Changed("unknown")
}

type countingEmitter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countingEmitter) Emit(name string, _ ...any) {
	c.mu.Lock()
	c.n[name]++
	c.mu.Unlock()
}

func (c *countingEmitter) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[name]
}
