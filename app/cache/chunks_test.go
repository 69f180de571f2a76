package cache_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"sessiondesk/app/cache"
)

// TestManyRowsRoundTrip writes a full snapshot of more rows than one
// sealing chunk and one decoding batch, in several chunks, and reads every
// row back as written, in one slice (the count hint) and with the shared
// strings (interning) changing no value.
func TestManyRowsRoundTrip(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	st, _ := open(t, t.TempDir(), key(t), func() time.Time { return now })
	want := largeSessions(20_001, now)
	if _, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: want}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Sessions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d sessions, wrote %d", len(got), len(want))
	}
	byID := make(map[string]int, len(want))
	for i := range want {
		byID[want[i].ID] = i
	}
	for i := range got {
		j, ok := byID[got[i].ID]
		if !ok || !reflect.DeepEqual(got[i], want[j]) {
			t.Fatalf("row %d read back as %+v, want %+v", i, got[i], want[j])
		}
	}
}
