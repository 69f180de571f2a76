package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
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
	runs       int
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

// kratosFloor sends again, one after the other, the requests the app's
// sync sent (uris: GET /admin/sessions with identity and devices expanded,
// the same page sizes and page tokens) and decodes each answer into the
// same structs as the app's client (admin.DecodeSessions), storing
// nothing: the least a full sync from Kratos must do. It returns how many
// distinct sessions the answers held.
func kratosFloor(ctx context.Context, hc *http.Client, adminURL string, uris []string) (int, error) {
	seen := map[string]bool{}
	for _, u := range uris {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, adminURL+u, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		page, err := admin.DecodeSessions(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("floor: %s: HTTP %d: %v", u, resp.StatusCode, err)
		}
		for _, s := range page {
			seen[s.ID] = true
		}
	}
	return len(seen), nil
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
	requests    int // the sync sent, and the floor sent again
	// CPU time of this process (the app's side, or the floor's) and of
	// Kratos during the sync and during the floor.
	syncCPU, floorCPU, kratosSyncCPU, kratosFloorCPU time.Duration
}

// cpuSpan notes the CPU time of this process and of Kratos (pid) from now
// until the returned func is called, which gives both.
func cpuSpan(pid int) func() (self, kratos time.Duration) {
	s0, k0 := cpuOf(os.Getpid()), cpuOf(pid)
	return func() (time.Duration, time.Duration) { return cpuOf(os.Getpid()) - s0, cpuOf(pid) - k0 }
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
	fmt.Fprintln(os.Stderr, "walking Kratos with its own page tokens…")
	own, err := ownTokenWalk(ctx, srv.AdminURL, domain.MaxPage)
	if err != nil {
		return rows, err
	}
	rows = append(rows, row{part, "a walk that sends Kratos' own page tokens as they are: sessions missed", fmt.Sprint(seeded.sessions - own), "", fmt.Sprintf("of %d; the app's walk below misses none", seeded.sessions)})

	key, err := newKey()
	if err != nil {
		return rows, err
	}
	var runs []kratosRun
	var last *syncedProfile
	for i := range kc.runs {
		fmt.Fprintf(os.Stderr, "Kratos run %d of %d: the app's full sync, then its floor…\n", i+1, kc.runs)
		run, prof, err := kratosSyncRun(ctx, srv, dir, fmt.Sprintf("kratos-%d", i), key, seeded.sessions)
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
	cn, err := kratosprov.Dial(srv.AdminURL, kratosprov.Options{})
	if err != nil {
		return rows, err
	}
	profile := fmt.Sprintf("kratos-%d", kc.runs-1)
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

// kratosSyncRun times a first full sync of a new profile (a new provider,
// as in a newly started app), checks that the cache holds every seeded
// session, and then times the floor of the requests that sync sent. It
// returns the profile.
func kratosSyncRun(ctx context.Context, srv *kratostest.Server, dir, profile string, key []byte, seeded int) (kratosRun, *syncedProfile, error) {
	var run kratosRun
	rec := newRecorder()
	cn, err := kratosprov.Dial(srv.AdminURL, kratosprov.Options{HTTP: httpx.Options{Transport: rec}})
	if err != nil {
		return run, nil, err
	}
	prof, err := openCache(ctx, cn.WithToken(""), dir, profile, key)
	if err != nil {
		return run, nil, err
	}
	rec.take()
	start, cpu := time.Now(), cpuSpan(srv.Pid())
	_, err = prof.sync.SyncNow(ctx)
	run.sync = time.Since(start)
	run.syncCPU, run.kratosSyncCPU = cpu()
	if err != nil {
		return run, prof, fmt.Errorf("kratos full sync: %w", err)
	}
	if got := prof.sessions.Len(); got != seeded {
		return run, prof, fmt.Errorf("kratos full sync: the cache holds %d sessions, Kratos %d", got, seeded)
	}
	uris := rec.take()
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	defer hc.CloseIdleConnections()
	start, cpu = time.Now(), cpuSpan(srv.Pid())
	n, err := kratosFloor(ctx, hc, srv.AdminURL, uris)
	run.floor = time.Since(start)
	run.floorCPU, run.kratosFloorCPU = cpu()
	if err != nil {
		return run, prof, err
	}
	if n != seeded {
		return run, prof, fmt.Errorf("floor: the sync's %d requests gave %d sessions, Kratos holds %d", len(uris), n, seeded)
	}
	run.requests = len(uris)
	return run, prof, nil
}

// kratosSyncRows sums the runs up: medians, and each run's ratio (the
// machine is shared, so the spread says how far to trust the median).
func kratosSyncRows(part string, sessions int, runs []kratosRun) []row {
	var floors, syncs, sc, fc, ksc, kfc []time.Duration
	ratios := ""
	for i, r := range runs {
		floors, syncs = append(floors, r.floor), append(syncs, r.sync)
		sc, fc, ksc, kfc = append(sc, r.syncCPU), append(fc, r.floorCPU), append(ksc, r.kratosSyncCPU), append(kfc, r.kratosFloorCPU)
		if i > 0 {
			ratios += ", "
		}
		ratios += fmt.Sprintf("%.2f×", float64(r.sync)/float64(r.floor))
	}
	f, s := median(floors), median(syncs)
	return []row{
		{part, fmt.Sprintf("floor: the same %d requests for admin pages again, decoded only", runs[len(runs)-1].requests), ms(f), "", fmt.Sprintf("median of %d", len(runs))},
		{part, fmt.Sprintf("full sync of %d sessions into the encrypted cache", sessions), ms(s), "≤ 1.3× floor", fmt.Sprintf("median of %d", len(runs))},
		{part, "ratio full sync / floor", fmt.Sprintf("%.2f×", float64(s)/float64(f)), "≤ 1.3×", "each run's: " + ratios},
		{part, "CPU time during the full sync / the floor: the app's process", ms(median(sc)) + " / " + ms(median(fc)), "", "medians; steadier than wall time on a loaded machine"},
		{part, "CPU time during the full sync / the floor: Kratos", ms(median(ksc)) + " / " + ms(median(kfc)), "", "the same requests, so about the same"},
	}
}
