package kratos_test

// These tests run against a real Ory Kratos v1.3.1 (app/kratos/kratostest):
// identities through its admin API, sessions through its native login flow.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"sessiondesk/app/domain"
	"sessiondesk/app/kratos"
	"sessiondesk/app/kratos/kratostest"
	"sessiondesk/app/provider/httpx"
)

const password = "correct horse battery staple"

// start runs a Kratos for the test and a client of its admin API.
func start(t *testing.T) (*kratostest.Server, *kratos.Client) {
	t.Helper()
	t.Parallel()
	k := kratostest.Start(t)
	return k, newClient(t, k.AdminURL, kratos.Options{})
}

func newClient(t *testing.T, adminURL string, opts kratos.Options) *kratos.Client {
	t.Helper()
	c, err := kratos.New(adminURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// person creates an identity and signs it in n times from dev; it returns
// the sessions in the order they were created.
func person(t *testing.T, k *kratostest.Server, email, name string, n int, dev kratostest.Device) []kratostest.Session {
	t.Helper()
	ctx := context.Background()
	if _, err := k.CreateIdentity(ctx, email, name, password); err != nil {
		t.Fatal(err)
	}
	var out []kratostest.Session
	for range n {
		s, err := k.Login(ctx, email, password, dev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// walk reads every page with the client and checks that no page was read
// with Kratos' own token. It returns the sessions in the order given.
func walk(t *testing.T, c *kratos.Client, size int, active kratos.ActiveFilter) ([]kratos.Session, []kratos.Page) {
	t.Helper()
	var all []kratos.Session
	var pages []kratos.Page
	opts := kratos.ListOptions{PageSize: size, Active: active}
	for {
		p, err := c.ListSessions(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if p.MayHaveSkipped {
			t.Errorf("page %d (size %d) was read with Kratos' own token", len(pages)+1, size)
		}
		all = append(all, p.Sessions...)
		pages = append(pages, p)
		if p.NextPageToken == "" {
			return all, pages
		}
		if len(pages) > 1000 {
			t.Fatal("the walk does not end")
		}
		opts.PageToken = p.NextPageToken
	}
}

// rawWalk is a client that follows Kratos' own Link rel="next" as it is:
// the ids it sees, in order.
func rawWalk(t *testing.T, k *kratostest.Server, size int) []string {
	t.Helper()
	var ids []string
	next := fmt.Sprintf("/admin/sessions?page_size=%d", size)
	for next != "" {
		resp, err := http.Get(k.AdminURL + next)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", next, resp.StatusCode, body)
		}
		var page []struct{ ID string }
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, s := range page {
			ids = append(ids, s.ID)
		}
		next = ""
		for _, link := range strings.Split(resp.Header.Get("Link"), ",") {
			if target, rel, _ := strings.Cut(link, ";"); strings.TrimSpace(rel) == `rel="next"` {
				next = strings.Trim(strings.TrimSpace(target), "<>")
			}
		}
	}
	return ids
}

// compare counts, against want, the ids missing from got and those that
// came more than once.
func compare(want map[string]bool, got []string) (missing, repeated int) {
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
		if seen[id] == 2 {
			repeated++
		}
	}
	for id := range want {
		if seen[id] == 0 {
			missing++
		}
	}
	return missing, repeated
}

func ids(ss []kratos.Session) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func TestListSessionsWithPeopleAndDevices(t *testing.T) {
	k, c := start(t)
	ada := person(t, k, "ada@example.com", "Ada Lovelace", 1, kratostest.Device{UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", IP: "203.0.113.7", City: "Lyon", Country: "FR"})[0]
	// No proxy header: Kratos records the connection's "127.0.0.1:port".
	bob := person(t, k, "bob@example.com", "Bob", 1, kratostest.Device{UserAgent: "curl/8.5"})[0]

	p, err := c.ListSessions(context.Background(), kratos.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 2 || len(p.Sessions) != 2 || p.NextPageToken != "" {
		t.Fatalf("got %d sessions of total %d, next %q; want the 2, no next page", len(p.Sessions), p.Total, p.NextPageToken)
	}
	// Newest first.
	if p.Sessions[0].ID != bob.ID || p.Sessions[1].ID != ada.ID {
		t.Fatalf("order %v, want [bob %s, ada %s]", ids(p.Sessions), bob.ID, ada.ID)
	}
	s := p.Sessions[1]
	if !s.Active || s.AAL != "aal1" {
		t.Errorf("active %v, AAL %q; want active aal1", s.Active, s.AAL)
	}
	if want := (kratos.Identity{ID: ada.IdentityID, Email: "ada@example.com", Name: "Ada Lovelace"}); s.Identity != want {
		t.Errorf("identity %+v, want %+v", s.Identity, want)
	}
	if want := []kratos.Device{{IPAddress: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", Location: "Lyon, FR"}}; !slices.Equal(s.Devices, want) {
		t.Errorf("devices %+v, want %+v", s.Devices, want)
	}
	since := time.Since(s.IssuedAt)
	if since < 0 || since > time.Minute || s.AuthenticatedAt.IsZero() || s.ExpiresAt.Sub(s.IssuedAt) < time.Hour {
		t.Errorf("issued %v, authenticated %v, expires %v: want issued just now and expiring later", s.IssuedAt, s.AuthenticatedAt, s.ExpiresAt)
	}
	if d := p.Sessions[0].Devices; len(d) != 1 || d[0].IPAddress != "127.0.0.1" || d[0].UserAgent != "curl/8.5" || d[0].Location != "" {
		t.Errorf("bob's devices %+v, want 127.0.0.1 (port dropped), curl/8.5, no location", d)
	}

	got, err := c.GetSession(context.Background(), ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != s.ID || got.Identity != s.Identity || !slices.Equal(got.Devices, s.Devices) {
		t.Errorf("GetSession %+v, want the listed %+v", got, s)
	}
}

// Kratos' page token carries created_at cut to 10 µs, without its zone. On
// SQLite, created_at is stored as text ("2026-12-04 17:10:44.899997+00:00")
// and compared as text with the token's ("2026-12-04 17:10:44.89999"): a
// session of the same 10 µs as a page's last one and ordered after it is
// neither before the token nor equal to it, and the next page skips it.
//
// Sessions here are created through the real login flow, one after the
// other: Kratos on SQLite answers concurrent sign-ins with "database is
// locked" (500), and sequential ones are milliseconds apart, so they never
// share 10 µs. A production Kratos on PostgreSQL under many sign-ins a
// second does produce such sessions. The test therefore first walks the
// natural sessions, then gives groups of them one created_at, written into
// Kratos' own SQLite table (the one thing not done through Kratos' API),
// as if each group had signed in in the same instant.
func TestPagingNeitherSkipsNorRepeatsTiedSessions(t *testing.T) {
	k, c := start(t)
	want := map[string]bool{}
	start := time.Now()
	for i := range 25 {
		for _, s := range person(t, k, fmt.Sprintf("p%02d@example.com", i), fmt.Sprintf("Person %02d", i), 10, kratostest.Device{UserAgent: "kratostest"}) {
			want[s.ID] = true
		}
	}
	t.Logf("250 sessions through the login flow in %v", time.Since(start).Round(time.Millisecond))

	check := func(phase string, rawMustSkip bool) {
		for _, size := range []int{7, 50, 250} {
			missing, repeated := compare(want, rawWalk(t, k, size))
			t.Logf("%s, page size %d: Kratos' own tokens miss %d of 250, repeat %d", phase, size, missing, repeated)
			if rawMustSkip && size < 250 && missing == 0 {
				t.Errorf("%s, page size %d: Kratos' own tokens skipped nothing; the groups do not reproduce the tie", phase, size)
			}
			start := time.Now()
			got, pages := walk(t, c, size, kratos.AllSessions)
			missing, repeated = compare(want, ids(got))
			t.Logf("%s, page size %d: the client read %d pages in %v, missing %d, repeating %d", phase, size, len(pages), time.Since(start).Round(time.Millisecond), missing, repeated)
			if missing != 0 || repeated != 0 || len(got) != 250 {
				t.Errorf("%s, page size %d: the client's walk gave %d sessions, missing %d and repeating %d; want all 250 once", phase, size, len(got), missing, repeated)
			}
			for i, p := range pages {
				if p.Total != 250 || p.MayRepeat {
					t.Errorf("%s, page size %d, page %d: total %d, may repeat %v; want 250, false", phase, size, i+1, p.Total, p.MayRepeat)
				}
			}
		}
	}
	check("sessions as created", false)
	// Groups of 1 to 30 sessions, each given the created_at of its first,
	// in Kratos' order: larger and smaller than a page, at every offset.
	alignCreatedAt(t, k.DBPath, []int{1, 2, 3, 5, 8, 13, 30})
	check("groups sharing one created_at", true)
}

// alignCreatedAt gives consecutive groups of sessions (in Kratos' order,
// of the given sizes, cycling) the created_at of the group's first.
func alignCreatedAt(t *testing.T, dbPath string, sizes []int) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id FROM sessions ORDER BY created_at DESC, id ASC`)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		all = append(all, id)
	}
	rows.Close()
	for i, g := 0, 0; i < len(all); g++ {
		n := min(sizes[g%len(sizes)], len(all)-i)
		for _, id := range all[i+1 : i+n] {
			if _, err := db.Exec(`UPDATE sessions SET created_at = (SELECT created_at FROM sessions WHERE id = ?) WHERE id = ?`, all[i], id); err != nil {
				t.Fatal(err)
			}
		}
		i += n
	}
}

// The last session of a page leaves the list before the next page is read
// (it is ended while the walk lists active sessions): the next page starts
// from the top of its 10 µs, skips nothing, and says it may repeat.
func TestPagingWhenThePagesLastSessionIsEnded(t *testing.T) {
	k, c := start(t)
	ctx := context.Background()
	sessions := person(t, k, "ada@example.com", "Ada", 12, kratostest.Device{})
	first, err := c.ListSessions(ctx, kratos.ListOptions{PageSize: 5, Active: kratos.ActiveSessions})
	if err != nil {
		t.Fatal(err)
	}
	last := first.Sessions[len(first.Sessions)-1]
	if err := c.RevokeSession(ctx, last.ID); err != nil {
		t.Fatal(err)
	}
	second, err := c.ListSessions(ctx, kratos.ListOptions{PageSize: 5, Active: kratos.ActiveSessions, PageToken: first.NextPageToken})
	if err != nil {
		t.Fatal(err)
	}
	if !second.MayRepeat || second.MayHaveSkipped {
		t.Errorf("second page: may repeat %v, may have skipped %v; want true, false", second.MayRepeat, second.MayHaveSkipped)
	}
	// Newest first: sessions[11] … sessions[7] were the first page.
	var want []string
	for i := 6; i >= 2; i-- {
		want = append(want, sessions[i].ID)
	}
	if got := ids(second.Sessions); !slices.Equal(got, want) {
		t.Errorf("second page %v, want %v", got, want)
	}
}

func TestRevokeSession(t *testing.T) {
	k, c := start(t)
	ctx := context.Background()
	ss := person(t, k, "ada@example.com", "Ada", 3, kratostest.Device{})
	ended, kept := ss[1], []kratostest.Session{ss[0], ss[2]}

	if err := c.RevokeSession(ctx, ended.ID); err != nil {
		t.Fatal(err)
	}
	if ok, err := k.Whoami(ctx, ended.Token); err != nil || ok {
		t.Errorf("whoami with the ended session's token: %v, %v; want refused", ok, err)
	}
	for _, s := range kept {
		if ok, err := k.Whoami(ctx, s.Token); err != nil || !ok {
			t.Errorf("whoami with another session's token: %v, %v; want accepted", ok, err)
		}
	}
	got, err := c.GetSession(ctx, ended.ID)
	if err != nil || got.Active {
		t.Errorf("GetSession of the ended one: active %v, %v; want inactive", got.Active, err)
	}
	for _, tc := range []struct {
		filter kratos.ActiveFilter
		want   []string
	}{
		{kratos.ActiveSessions, []string{ss[2].ID, ss[0].ID}},
		{kratos.InactiveSessions, []string{ended.ID}},
		{kratos.AllSessions, []string{ss[2].ID, ended.ID, ss[0].ID}},
	} {
		all, pages := walk(t, c, 1, tc.filter)
		if got := ids(all); !slices.Equal(got, tc.want) || pages[0].Total != int64(len(tc.want)) {
			t.Errorf("filter %d: %v (total %d), want %v", tc.filter, got, pages[0].Total, tc.want)
		}
	}
	// Ending it again changes nothing: a retried call must not fail.
	if err := c.RevokeSession(ctx, ended.ID); err != nil {
		t.Errorf("ending an ended session: %v", err)
	}
}

func TestRevokeIdentitySessions(t *testing.T) {
	k, c := start(t)
	ctx := context.Background()
	ada := person(t, k, "ada@example.com", "Ada", 4, kratostest.Device{})
	bob := person(t, k, "bob@example.com", "Bob", 2, kratostest.Device{})

	if err := c.RevokeIdentitySessions(ctx, ada[0].IdentityID); err != nil {
		t.Fatal(err)
	}
	for _, s := range ada {
		if ok, err := k.Whoami(ctx, s.Token); err != nil || ok {
			t.Errorf("whoami with one of Ada's tokens: %v, %v; want refused", ok, err)
		}
	}
	for _, s := range bob {
		if ok, err := k.Whoami(ctx, s.Token); err != nil || !ok {
			t.Errorf("whoami with one of Bob's tokens: %v, %v; want accepted", ok, err)
		}
	}
	// Kratos deletes them: they leave the list, not only the active one.
	all, _ := walk(t, c, 0, kratos.AllSessions)
	if got, want := ids(all), []string{bob[1].ID, bob[0].ID}; !slices.Equal(got, want) {
		t.Errorf("after signing Ada out everywhere the list is %v, want Bob's %v", got, want)
	}
	if _, err := c.GetSession(ctx, ada[0].ID); kratos.KindOf(err) != kratos.KindNotFound {
		t.Errorf("GetSession of a deleted session: %v, want not found", err)
	}
	// Again (a retry after a lost answer), and for someone unknown: Kratos
	// says 404 as nothing is left to delete; the person has no session,
	// which is what was asked.
	for _, id := range []string{ada[0].IdentityID, "6f1c2a43-9a55-4a46-9e9b-0b8f0c1d2e3f"} {
		if err := c.RevokeIdentitySessions(ctx, id); err != nil {
			t.Errorf("signing out %s with no session left: %v", id, err)
		}
	}
}

func TestErrors(t *testing.T) {
	k, c := start(t)
	ctx := context.Background()
	const unknown = "6f1c2a43-9a55-4a46-9e9b-0b8f0c1d2e3f"

	t.Run("unknown session", func(t *testing.T) {
		for name, call := range map[string]func() error{
			"get":    func() error { _, err := c.GetSession(ctx, unknown); return err },
			"revoke": func() error { return c.RevokeSession(ctx, unknown) },
		} {
			err := call()
			if kratos.KindOf(err) != kratos.KindNotFound || !strings.Contains(err.Error(), "Kratos has no session "+unknown) {
				t.Errorf("%s: %v, want not found, naming the session", name, err)
			}
		}
	})
	t.Run("not an ID", func(t *testing.T) {
		// Refused before any request: a client of a closed port would
		// otherwise say unreachable.
		closed := newClient(t, "http://127.0.0.1:1", kratos.Options{HTTP: httpx.Options{RetryMax: -1}})
		for _, id := range []string{"", "../identities", "6f1c2a43-9a55-4a46-9e9b-0b8f0c1d2e3f/x"} {
			if err := closed.RevokeSession(ctx, id); kratos.KindOf(err) != kratos.KindInvalid {
				t.Errorf("RevokeSession(%q): %v, want invalid", id, err)
			}
			if err := closed.RevokeIdentitySessions(ctx, id); kratos.KindOf(err) != kratos.KindInvalid {
				t.Errorf("RevokeIdentitySessions(%q): %v, want invalid", id, err)
			}
		}
		if _, err := closed.ListSessions(ctx, kratos.ListOptions{PageSize: 1001}); kratos.KindOf(err) != kratos.KindInvalid {
			t.Errorf("page size 1001: %v, want invalid", err)
		}
	})
	t.Run("public URL instead of admin", func(t *testing.T) {
		pub := newClient(t, k.PublicURL, kratos.Options{})
		_, err := pub.ListSessions(ctx, kratos.ListOptions{})
		if kratos.KindOf(err) != kratos.KindNotFound || !strings.Contains(err.Error(), "no Kratos admin API at "+k.PublicURL) {
			t.Errorf("listing at the public URL: %v, want not found, saying it is not the admin API", err)
		}
	})
	t.Run("a bad page token", func(t *testing.T) {
		_, err := c.ListSessions(ctx, kratos.ListOptions{PageToken: "bm90IGEgdG9rZW4"})
		if kratos.KindOf(err) != kratos.KindInvalid || !strings.Contains(err.Error(), "(400)") {
			t.Errorf("a made-up page token: %v, want invalid (400)", err)
		}
	})
	t.Run("plain http elsewhere", func(t *testing.T) {
		if _, err := kratos.New("http://kratos-admin.example.com", kratos.Options{}); kratos.KindOf(err) != kratos.KindInvalid {
			t.Errorf("plain http to another host: %v, want refused", err)
		}
	})
	t.Run("a proxy with an API key in front", func(t *testing.T) {
		const key = "sd-test-key-5f0b9c"
		target, _ := url.Parse(k.AdminURL)
		proxy := httputil.NewSingleHostReverseProxy(target)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.Header.Get("Authorization") {
			case "":
				http.Error(w, "sign in", http.StatusUnauthorized)
			case "Bearer " + key:
				proxy.ServeHTTP(w, r)
			default:
				http.Error(w, "forbidden", http.StatusForbidden)
			}
		}))
		defer srv.Close()
		for _, tc := range []struct {
			key  string
			kind kratos.Kind
			says string
		}{
			{"", kratos.KindUnauthorized, "give its API key"},
			{"wrong-key", kratos.KindForbidden, "403"},
		} {
			_, err := newClient(t, srv.URL, kratos.Options{APIKey: tc.key}).ListSessions(ctx, kratos.ListOptions{})
			if kratos.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.says) || (tc.key != "" && strings.Contains(err.Error(), tc.key)) {
				t.Errorf("key %q: %v, want kind %d saying %q, without the key", tc.key, err, tc.kind, tc.says)
			}
		}
		if _, err := newClient(t, srv.URL, kratos.Options{APIKey: key}).ListSessions(ctx, kratos.ListOptions{}); err != nil {
			t.Errorf("with the right key: %v", err)
		}
	})
	t.Run("Kratos stopped", func(t *testing.T) {
		if err := k.Stop(); err != nil {
			t.Fatal(err)
		}
		off := newClient(t, k.AdminURL, kratos.Options{HTTP: httpx.Options{RetryMax: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}})
		_, err := off.ListSessions(ctx, kratos.ListOptions{})
		if kratos.KindOf(err) != kratos.KindUnreachable || !domain.IsUnreachable(err) || !strings.Contains(err.Error(), "cannot be reached") {
			t.Errorf("listing a stopped Kratos: %v, want unreachable", err)
		}
	})
}
