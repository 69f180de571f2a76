package syncer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/syncer"
)

// seedLikeSessions is n sessions of 20,000 people, shaped like platformd's
// large-org seed: a few dozen clients and places, one agent per client.
func seedLikeSessions(n int, now time.Time) []domain.Session {
	out := make([]domain.Session, n)
	for i := range out {
		u, dev := i%20_000, fmt.Sprintf("dev_%012x", i%20_000)
		client := fmt.Sprintf("Browser %d on System %d", i%7, i%5)
		out[i] = domain.Session{
			ID:       fmt.Sprintf("ses_%024x", uint64(i)*0x9e3779b97f4a7c15),
			User:     domain.Person{ID: fmt.Sprintf("usr_%012x", u), Email: fmt.Sprintf("user%06d@bigcorp.test", u), Name: fmt.Sprintf("User %06d", u)},
			DeviceID: &dev, IP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " + client,
			Client:    client, Location: fmt.Sprintf("City %d, C%d", i%40, i%12), MFA: i%4 == 0,
			CreatedAt: now.Add(-time.Duration(i) * time.Second), LastActiveAt: now.Add(-time.Duration(i*7919%100_000) * time.Second),
			ExpiresAt: now.Add(24 * time.Hour), UpdatedAt: now.Add(-time.Duration(i) * time.Second), Status: domain.StatusActive,
		}
	}
	return out
}

// BenchmarkLoad100k is what the bench's "until every row is decrypted and
// searchable" times at 100,000 sessions, without the rest of the bench
// around it: open the cache, Load, and wait for the sessions' index (Len).
// The structural check and the devices that follow are not timed.
func BenchmarkLoad100k(b *testing.B) {
	dir, key := b.TempDir(), newKey()
	st, _, err := cache.Open(context.Background(), cache.Options{Dir: dir, Profile: "p", Key: key})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: seedLikeSessions(100_000, time.Now().UTC())}); err != nil {
		b.Fatal(err)
	}
	st.Close()
	b.ResetTimer()
	for b.Loop() {
		st, _, err := cache.Open(context.Background(), cache.Options{Dir: dir, Profile: "p", Key: key})
		if err != nil {
			b.Fatal(err)
		}
		sessions := index.NewSessions()
		s := syncer.New(syncer.Config{Store: st, Sessions: sessions, Devices: index.NewDevices(), Audit: syncer.NewAuditTable()})
		if err := s.Load(context.Background()); err != nil {
			b.Fatal(err)
		}
		if n := sessions.Len(); n != 100_000 {
			b.Fatalf("loaded %d sessions", n)
		}
		b.StopTimer()
		if err := s.WaitLoaded(context.Background()); err != nil {
			b.Fatal(err)
		}
		st.Close()
		b.StartTimer()
	}
}
