package server

import (
	"context"
	"sync"
	"testing"
	"time"
)

// A client IP's entry lives only while one of its requests holds or waits
// for a place: many addresses leave nothing behind, and one address gets
// at most Concurrent places plus Queue waiting.
func TestPerIPEntriesLeaveWithTheirRequests(t *testing.T) {
	p := &perIP{limit: ClassLimit{Concurrent: 2, Queue: 1}, ips: map[string]*ipEntry{}}
	deadline := time.Now().Add(time.Second)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			ip := ipKey("2001:db8::" + string(rune('a'+i%26)))
			if e, ok := p.acquire(context.Background(), ip, deadline); ok {
				p.release(ip, e)
			}
		})
	}
	wg.Wait()
	if len(p.ips) != 0 {
		t.Fatalf("%d entries left after every request ended", len(p.ips))
	}

	// One address: 2 hold, 1 waits, the next is refused at once.
	var held []*ipEntry
	for range 2 {
		e, ok := p.acquire(context.Background(), "192.0.2.1", deadline)
		if !ok {
			t.Fatal("refused within the limit")
		}
		held = append(held, e)
	}
	got := make(chan bool)
	go func() {
		e, ok := p.acquire(context.Background(), "192.0.2.1", time.Now().Add(5*time.Second))
		if ok {
			p.release("192.0.2.1", e)
		}
		got <- ok
	}()
	waiting := func() int64 {
		p.mu.Lock()
		defer p.mu.Unlock()
		l := p.ips["192.0.2.1"].lim
		l.mu.Lock()
		defer l.mu.Unlock()
		return int64(len(l.waiters))
	}
	for waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	t0 := time.Now()
	if _, ok := p.acquire(context.Background(), "192.0.2.1", time.Now().Add(5*time.Second)); ok || time.Since(t0) > 100*time.Millisecond {
		t.Fatalf("a fourth request: ok %v after %v, want refused at once", ok, time.Since(t0))
	}
	if _, ok := p.acquire(context.Background(), "192.0.2.2", deadline); !ok {
		t.Fatal("another address was refused")
	}
	p.release("192.0.2.1", held[0])
	if !<-got {
		t.Fatal("the waiting request did not get the freed place")
	}
	p.release("192.0.2.1", held[1])
	if len(p.ips) != 1 { // 192.0.2.2 still holds its place
		t.Fatalf("entries: %v", p.ips)
	}
}

// A freed sign-in slot goes to the address holding the fewest, then to the
// one served longest ago: a newcomer does not wait behind the queue of an
// address that was just served, even one that queued first.
func TestSignInSlotsGoToTheLeastServedAddress(t *testing.T) {
	l := newLimiter(ClassLimit{Concurrent: 1, Queue: 10}, true)
	ctx, far := context.Background(), time.Now().Add(10*time.Second)
	if !l.acquire(ctx, "A", far) {
		t.Fatal("a free slot was refused")
	}
	order := make(chan string, 3)
	queue := func(key string) {
		go func() {
			if l.acquire(ctx, key, far) {
				order <- key
			}
		}()
		for { // queued before the next one arrives
			l.mu.Lock()
			n := len(l.waiters)
			queued := n > 0 && l.waiters[n-1].key == key
			l.mu.Unlock()
			if queued {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	queue("A") // A's second sign-in queues first,
	queue("B") // then B's, then C's
	queue("C")
	for _, want := range []string{"B", "C", "A"} {
		var holder string
		switch want {
		case "B":
			holder = "A"
		case "C":
			holder = "B"
		default:
			holder = "C"
		}
		l.release(holder)
		if got := <-order; got != want {
			t.Fatalf("after %s's release the slot went to %s, want %s", holder, got, want)
		}
	}
	l.release("A")
	if len(l.keys) != 0 || l.free != 1 {
		t.Fatalf("left behind: keys %v, free %d", l.keys, l.free)
	}
}
