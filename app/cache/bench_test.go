package cache_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
)

// largeSessions is n sessions shaped like the platform's large-org seed.
func largeSessions(n int, now time.Time) []domain.Session {
	out := make([]domain.Session, n)
	for i := range out {
		dev := fmt.Sprintf("dev_%012x", i%20000)
		out[i] = domain.Session{
			ID:       fmt.Sprintf("ses_%024x", uint64(i)*0x9e3779b97f4a7c15),
			User:     domain.Person{ID: fmt.Sprintf("usr_%012x", i), Email: fmt.Sprintf("user%05d@bigcorp.test", i), Name: fmt.Sprintf("User %05d", i)},
			DeviceID: &dev, IP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
			Client:    "Chrome 131 on Linux", Location: "Berlin, DE",
			CreatedAt: now.Add(-time.Duration(i) * time.Second), LastActiveAt: now.Add(-time.Duration(i*7919%100000) * time.Second),
			ExpiresAt: now.Add(24 * time.Hour), UpdatedAt: now.Add(-time.Duration(i) * time.Second), Status: domain.StatusActive,
		}
	}
	return out
}

func benchStore(b *testing.B, dir string) *cache.Store {
	b.Helper()
	k := make([]byte, 32)
	st, _, err := cache.Open(context.Background(), cache.Options{Dir: dir, Profile: "bench", Key: k})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkApplyFull100k is the cache's part of a full sync: seal and write
// 100,000 sessions in one transaction.
func BenchmarkApplyFull100k(b *testing.B) {
	sess := largeSessions(100_000, time.Now().UTC())
	st := benchStore(b, b.TempDir())
	defer st.Close()
	b.ResetTimer()
	for b.Loop() {
		if _, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: sess}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad100k opens 100,000 sealed sessions (every row decrypted).
func BenchmarkLoad100k(b *testing.B) {
	dir := b.TempDir()
	st := benchStore(b, dir)
	if _, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: largeSessions(100_000, time.Now().UTC())}); err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	b.ResetTimer()
	for b.Loop() {
		got, err := st.Sessions(context.Background())
		if err != nil || len(got) != 100_000 {
			b.Fatal(len(got), err)
		}
	}
}

// BenchmarkOpenWindow100k is opening the cache and answering the default
// sessions view's first window in SQL (what the UI shows first).
func BenchmarkOpenWindow100k(b *testing.B) {
	dir := b.TempDir()
	st := benchStore(b, dir)
	now := time.Now().UTC()
	if _, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: largeSessions(100_000, now)}); err != nil {
		b.Fatal(err)
	}
	st.Close()
	b.ResetTimer()
	for b.Loop() {
		st := benchStore(b, dir)
		items, total, err := st.SessionWindow(context.Background(), cache.SessionFilter{ActiveAt: now.UnixNano()}, "last_active_at", true, 0, 100)
		if err != nil || total != 100_000 || len(items) != 100 {
			b.Fatal(total, len(items), err)
		}
		st.Close()
	}
}
