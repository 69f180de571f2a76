package platformd_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/backend/api"
)

// BenchmarkSessionsPage1000 is the hot path of a full sync: one page of
// 1,000 sessions (every field set) read over loopback HTTP and decoded into
// what the syncer holds: the provider's domain sessions (wire decode plus
// the mapping at the seam). BenchmarkSessionsPage1000Wire is the same page
// decoded into the wire types only (what the syncer held before the seam).
func BenchmarkSessionsPage1000(b *testing.B) {
	benchSessionsPage(b, func(ctx context.Context, c *platformd.Client) (int, error) {
		page, err := platformd.NewProvider(c).Sessions(ctx, domain.PageRequest{Limit: 1000, Since: time.Unix(0, 0)})
		return len(page.Items), err
	})
}

func BenchmarkSessionsPage1000Wire(b *testing.B) {
	benchSessionsPage(b, func(ctx context.Context, c *platformd.Client) (int, error) {
		page, err := c.ListSessions(ctx, platformd.ListParams{Limit: 1000, UpdatedSince: time.Unix(0, 0)})
		return len(page.Items), err
	})
}

func benchSessionsPage(b *testing.B, listSessionsPage func(context.Context, *platformd.Client) (int, error)) {
	body := sessionPage(1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer srv.Close()
	c, err := platformd.New(srv.URL, httpx.Options{})
	if err != nil {
		b.Fatal(err)
	}
	c = c.WithToken("t")
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, err := listSessionsPage(ctx, c)
		if err != nil || n != 1000 {
			b.Fatal(n, err)
		}
	}
}

// sessionPage is the JSON of a page of n sessions with every field set.
func sessionPage(n int) []byte {
	t0 := time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)
	items := make([]api.Session, n)
	for i := range items {
		dev := fmt.Sprintf("dev_%08d", i)
		ended := t0.Add(time.Duration(i) * time.Minute)
		items[i] = api.Session{
			ID: fmt.Sprintf("ses_%08d", i), User: api.User{ID: fmt.Sprintf("usr_%06d", i%5000), Email: fmt.Sprintf("person%d@acme.test", i%5000), Name: fmt.Sprintf("Person Number %d", i%5000)},
			DeviceID: &dev, IP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", Client: "Firefox 128 on Linux",
			Location: "Berlin, DE", CreatedAt: t0, LastActiveAt: t0.Add(time.Hour), ExpiresAt: t0.Add(24 * time.Hour), UpdatedAt: t0.Add(time.Duration(i)),
			Status: api.StatusTerminated, TerminatedAt: &ended, TerminatedBy: &api.User{ID: "usr_admin", Email: "admin@acme.test", Name: "Admin"},
			MFA: i%2 == 0, Current: i == 0,
		}
	}
	next := "c_next"
	b, err := json.Marshal(api.SessionList{Items: items, NextCursor: &next})
	if err != nil {
		panic(err)
	}
	return b
}
