package syncer_test

import (
	"context"
	"testing"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/index"
	"sessiondesk/app/internal/scaledata"
	"sessiondesk/app/syncer"
)

// BenchmarkLoad100k is what the bench's "until every row is decrypted and
// searchable" times at 100,000 sessions of 5,000 people, as the bench's
// seed has them, without the rest of the bench around it: open the cache,
// Load, and wait for the sessions' index (Len). The structural check and
// the devices that follow are not timed.
func BenchmarkLoad100k(b *testing.B) {
	dir, key := b.TempDir(), newKey()
	st, _, err := cache.Open(context.Background(), cache.Options{Dir: dir, Profile: "p", Key: key})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: scaledata.Sessions(100_000, scaledata.People(5_000), false, time.Now().UTC())}); err != nil {
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
