package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"sessiondesk/app/domain"
	admin "sessiondesk/app/kratos"
	"sessiondesk/app/kratos/kratostest"
	"sessiondesk/app/provider/httpx"
	kratosprov "sessiondesk/app/provider/kratos"
)

// kratosConfig is the Kratos column (-kratos).
type kratosConfig struct {
	bin        string // the kratos v1.3.1 binary; "" skips the column
	sessions   int
	identities int
	only       bool // skip platformd's rows
}

// recorder is a transport that notes the path and query of every request
// sent through it, so that the floor can be checked to send exactly the
// requests the app's sync sent.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	uris []string
}

func newRecorder() *recorder {
	return &recorder{base: http.DefaultTransport.(*http.Transport).Clone()}
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.uris = append(r.uris, req.URL.RequestURI())
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

// take returns the requests so far and forgets them.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.uris
	r.uris = nil
	return u
}

// kratosFloor walks every page of GET /admin/sessions with identity and
// devices expanded, as the app's sync asks for them (the same client, page
// size and page tokens, decoded into the same structs), and stores
// nothing: the least a full sync from Kratos must do. It fails on a
// session given twice or a page that may have skipped some.
func kratosFloor(ctx context.Context, c *admin.Client, pageSize int) (int, error) {
	seen := map[string]bool{}
	token := ""
	for {
		p, err := c.ListSessions(ctx, admin.ListOptions{PageToken: token, PageSize: pageSize})
		if err != nil {
			return len(seen), err
		}
		if p.MayHaveSkipped || p.MayRepeat {
			return len(seen), fmt.Errorf("floor: a page may have skipped (%t) or repeated (%t) sessions", p.MayHaveSkipped, p.MayRepeat)
		}
		for _, s := range p.Sessions {
			if seen[s.ID] {
				return len(seen), fmt.Errorf("floor: session %s given twice", s.ID)
			}
			seen[s.ID] = true
		}
		if p.NextPageToken == "" {
			return len(seen), nil
		}
		token = p.NextPageToken
	}
}

// nextLink finds the rel="next" target of a Link header.
var nextLink = regexp.MustCompile(`<([^>]*)>\s*;[^,]*rel="?next"?`)

// ownTokenWalk walks GET /admin/sessions sending Kratos' own page tokens
// as they are (what a client that trusts them does) and returns how many
// distinct sessions it met: with created_at ties at page boundaries, fewer
// than Kratos holds.
func ownTokenWalk(ctx context.Context, adminURL string, pageSize int) (int, error) {
	seen := map[string]bool{}
	q := url.Values{"page_size": {strconv.Itoa(pageSize)}}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, adminURL+"/admin/sessions?"+q.Encode(), nil)
		if err != nil {
			return 0, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		var page []struct {
			ID string `json:"id"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("own-token walk: HTTP %d: %v", resp.StatusCode, err)
		}
		for _, s := range page {
			seen[s.ID] = true
		}
		m := nextLink.FindStringSubmatch(resp.Header.Get("Link"))
		if m == nil || len(page) == 0 {
			return len(seen), nil
		}
		next, err := url.Parse(m[1])
		if err != nil {
			return 0, err
		}
		q.Set("page_token", next.Query().Get("page_token"))
	}
}

// kratosRun is one run of the column: the floor, then the app's full sync.
type kratosRun struct {
	floor, sync time.Duration
}

// benchKratos is the Kratos column: a full sync of the seeded Kratos into
// a fresh encrypted cache beside its floor, opening that cache offline and
// searching it.
func benchKratos(ctx context.Context, cfg config, dir string) ([]row, error) {
	kc := cfg.kratos
	fmt.Fprintf(os.Stderr, "seeding Ory Kratos with %d sessions of %d people…\n", kc.sessions, kc.identities)
	srv, seeded, err := seedKratos(ctx, kc.bin, filepath.Join(dir, "kratos"), kratosSeed{sessions: kc.sessions, identities: kc.identities, ties: true})
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	const part = "Kratos"
	rows := []row{{part, fmt.Sprintf("seed: %d sessions of %d people, written into Kratos' own SQLite tables", seeded.sessions, kc.identities),
		ms(seeded.took), "", fmt.Sprintf("%d sessions share a created_at with another", seeded.tied)}}
	own, err := ownTokenWalk(ctx, srv.AdminURL, domain.MaxPage)
	if err != nil {
		return rows, err
	}
	rows = append(rows, row{part, "a walk that sends Kratos' own page tokens as they are: sessions missed", fmt.Sprint(seeded.sessions - own), "", fmt.Sprintf("of %d; the app's walk below misses none", seeded.sessions)})

	rec := newRecorder()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return rows, err
	}
	var runs []kratosRun
	var last *syncedProfile
	for i := range cfg.runs {
		run, prof, err := kratosSyncRun(ctx, srv, rec, dir, fmt.Sprintf("kratos-%d", i), key, seeded.sessions)
		if last != nil {
			last.close()
		}
		last = prof
		if err != nil {
			return rows, err
		}
		runs = append(runs, run)
	}
	defer last.close()
	rows = append(rows, kratosSyncRows(part, seeded.sessions, runs)...)
	cn, err := kratosprov.Dial(srv.AdminURL, kratosprov.Options{HTTP: httpx.Options{Transport: rec}})
	if err != nil {
		return rows, err
	}
	profile := fmt.Sprintf("kratos-%d", cfg.runs-1)
	r, err := benchOffline(ctx, cfg, part, seeded.sessions, func() (*syncedProfile, error) {
		return openCache(ctx, cn.WithToken(""), dir, profile, key)
	})
	rows = append(rows, r...)
	if err != nil {
		return rows, err
	}
	r, err = benchSearch(cfg, part, last, seeded.sessions)
	return append(rows, r...), err
}

// kratosSyncRun times the floor and then a first full sync of a new
// profile (a new provider, as in a newly started app), checks that both
// sent the same requests and that the cache holds every seeded session,
// and returns the profile.
func kratosSyncRun(ctx context.Context, srv *kratostest.Server, rec *recorder, dir, profile string, key []byte, seeded int) (kratosRun, *syncedProfile, error) {
	var run kratosRun
	c, err := admin.New(srv.AdminURL, admin.Options{HTTP: httpx.Options{Transport: rec}})
	if err != nil {
		return run, nil, err
	}
	defer c.CloseIdleConnections()
	rec.take()
	start := time.Now()
	n, err := kratosFloor(ctx, c, domain.MaxPage)
	run.floor = time.Since(start)
	if err != nil {
		return run, nil, err
	}
	if n != seeded {
		return run, nil, fmt.Errorf("floor: the walk met %d sessions, Kratos holds %d", n, seeded)
	}
	floorReqs := rec.take()

	cn, err := kratosprov.Dial(srv.AdminURL, kratosprov.Options{HTTP: httpx.Options{Transport: rec}})
	if err != nil {
		return run, nil, err
	}
	prof, err := openCache(ctx, cn.WithToken(""), dir, profile, key)
	if err != nil {
		return run, nil, err
	}
	rec.take()
	start = time.Now()
	_, err = prof.sync.SyncNow(ctx)
	run.sync = time.Since(start)
	if err != nil {
		return run, prof, fmt.Errorf("kratos full sync: %w", err)
	}
	if got := prof.sessions.Len(); got != seeded {
		return run, prof, fmt.Errorf("kratos full sync: the cache holds %d sessions, Kratos %d", got, seeded)
	}
	if syncReqs := rec.take(); !slices.Equal(syncReqs, floorReqs) {
		return run, prof, fmt.Errorf("the floor sent %d requests, the app's sync %d, not the same ones: the floor must replay the sync's (did the sync shrink its pages on a slow one?)", len(floorReqs), len(syncReqs))
	}
	return run, prof, nil
}

// kratosSyncRows sums the runs up: medians, and each run's ratio (the
// machine is shared, so the spread says how far to trust the median).
func kratosSyncRows(part string, sessions int, runs []kratosRun) []row {
	var floors, syncs []time.Duration
	ratios := ""
	for i, r := range runs {
		floors, syncs = append(floors, r.floor), append(syncs, r.sync)
		if i > 0 {
			ratios += ", "
		}
		ratios += fmt.Sprintf("%.2f×", float64(r.sync)/float64(r.floor))
	}
	f, s := median(floors), median(syncs)
	return []row{
		{part, fmt.Sprintf("floor: walk the same %d admin pages with the same requests, decode only", sessions), ms(f), "", fmt.Sprintf("median of %d", len(runs))},
		{part, fmt.Sprintf("full sync of %d sessions into the encrypted cache", sessions), ms(s), "≤ 1.3× floor", fmt.Sprintf("median of %d", len(runs))},
		{part, "ratio full sync / floor", fmt.Sprintf("%.2f×", float64(s)/float64(f)), "≤ 1.3×", "runs: " + ratios},
	}
}
