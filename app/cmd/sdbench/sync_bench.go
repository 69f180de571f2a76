package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/app/syncer"
	"sessiondesk/backend/api"
)

// syncedProfile is one profile's cache filled by the app's real syncer.
type syncedProfile struct {
	store    *cache.Store
	sessions *index.Table[domain.Session]
	devices  *index.Table[domain.Device]
	sync     *syncer.Syncer
}

func (sp *syncedProfile) close() { sp.store.Close() }

// openProfile wires the same parts the app's desk wires for a profile
// signed in to platformd: platform client, encrypted cache, in-memory
// indexes, syncer.
func openProfile(ctx context.Context, client *platformd.Client, dir, profile string, key []byte, opts ...func(*syncer.Config)) (*syncedProfile, error) {
	return openCache(ctx, platformd.NewProvider(client), dir, profile, key, opts...)
}

// openCache is openProfile for any provider (src): the cache of profile in
// dir, loaded, with its syncer.
func openCache(ctx context.Context, src syncer.Source, dir, profile string, key []byte, opts ...func(*syncer.Config)) (*syncedProfile, error) {
	st, _, err := cache.Open(ctx, cache.Options{Dir: dir, Profile: profile, Key: key})
	if err != nil {
		return nil, err
	}
	sp := &syncedProfile{store: st, sessions: index.NewSessions(), devices: index.NewDevices()}
	cfg := syncer.Config{
		Source: src, Store: st, Sessions: sp.sessions, Devices: sp.devices, Audit: syncer.NewAuditTable(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	sp.sync = syncer.New(cfg)
	if err := sp.sync.Load(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return sp, nil
}

// rawPages fetches every page of a list as the platform sent it.
func rawPages(ctx context.Context, c *apiClient, path string) ([][]byte, error) {
	var pages [][]byte
	cursor := ""
	for {
		q := url.Values{"limit": {"1000"}}
		if path == "/sessions" {
			q.Set("status", "all")
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var head struct {
			NextCursor *string `json:"next_cursor"`
		}
		raw, err := c.do(ctx, http.MethodGet, api.BasePath+path+"?"+q.Encode(), nil, &head)
		if err != nil {
			return nil, err
		}
		pages = append(pages, raw)
		if head.NextCursor == nil {
			return pages, nil
		}
		cursor = *head.NextCursor
	}
}

// floor is the least any sync must do with the bytes the platform sends:
// decode them, and write the rows into SQLite in one bulk transaction, one
// column per field (no encryption, no index, no re-encoding).
func floor(ctx context.Context, dir string, sessionPages, devicePages [][]byte) (sessions, devices int, err error) {
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "floor.db")+"?_journal_mode=WAL&_synchronous=NORMAL")
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DROP TABLE IF EXISTS sessions; DROP TABLE IF EXISTS devices;
		CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT, email TEXT, name TEXT, device_id TEXT, ip TEXT,
			user_agent TEXT, client TEXT, location TEXT, created_at TEXT, last_active_at TEXT, expires_at TEXT,
			updated_at TEXT, status TEXT, mfa INTEGER);
		CREATE TABLE devices (id TEXT PRIMARY KEY, user_id TEXT, email TEXT, uname TEXT, name TEXT, platform TEXT,
			trusted INTEGER, first_seen_at TEXT, last_seen_at TEXT, last_ip TEXT, updated_at TEXT)`); err != nil {
		return 0, 0, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	var ins [2]*sql.Stmt // sessions, devices
	for i, q := range []string{`INSERT INTO sessions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, `INSERT INTO devices VALUES (?,?,?,?,?,?,?,?,?,?,?)`} {
		if ins[i], err = tx.PrepareContext(ctx, q); err != nil {
			return 0, 0, err
		}
	}
	const ts = time.RFC3339Nano
	if sessions, err = insertPages(sessionPages, func(s api.Session) error {
		_, err := ins[0].ExecContext(ctx, s.ID, s.User.ID, s.User.Email, s.User.Name, s.DeviceID, s.IP, s.UserAgent,
			s.Client, s.Location, s.CreatedAt.Format(ts), s.LastActiveAt.Format(ts), s.ExpiresAt.Format(ts),
			s.UpdatedAt.Format(ts), s.Status, s.MFA)
		return err
	}); err != nil {
		return 0, 0, err
	}
	if devices, err = insertPages(devicePages, func(d api.Device) error {
		_, err := ins[1].ExecContext(ctx, d.ID, d.User.ID, d.User.Email, d.User.Name, d.Name, d.Platform, d.Trusted,
			d.FirstSeenAt.Format(ts), d.LastSeenAt.Format(ts), d.LastIP, d.UpdatedAt.Format(ts))
		return err
	}); err != nil {
		return 0, 0, err
	}
	return sessions, devices, tx.Commit()
}

// insertPages decodes each page of a list as the platform sent it (the
// items of an api.SessionList or api.DeviceList) and inserts every item
// with ins; it returns how many it inserted.
func insertPages[T any](pages [][]byte, ins func(T) error) (int, error) {
	n := 0
	for _, raw := range pages {
		var page struct {
			Items []T `json:"items"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return n, err
		}
		for _, it := range page.Items {
			if err := ins(it); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// benchSync measures the app's side: a full sync of the large organization
// into a fresh encrypted cache beside its floor, a delta sync with nothing
// new, opening the cache offline with every row listed, and a search.
func benchSync(ctx context.Context, cfg config, p *platformProc, dir string) ([]row, error) {
	raw, client, key, err := signedIn(ctx, p, cfg.slug)
	if err != nil {
		return nil, err
	}
	rows, last, sessionsSent, err := syncRuns(ctx, cfg, raw, client, dir, key)
	if err != nil {
		return rows, err
	}
	defer last.close()

	delta, err := timeIt(cfg.samples, func() error {
		_, err := last.sync.SyncNow(ctx)
		return err
	})
	if err != nil {
		return rows, fmt.Errorf("delta sync: %w", err)
	}
	rows = append(rows, row{"app sync", "delta sync, nothing new, p50", ms(median(delta)), "< 10 ms", fmt.Sprintf("%d syncs", len(delta))})

	profile := fmt.Sprintf("bench-%d", cfg.runs-1)
	r, err := benchOffline(ctx, cfg, "app offline", sessionsSent, func() (*syncedProfile, error) {
		return openProfile(ctx, client, dir, profile, key)
	})
	rows = append(rows, r...)
	if err != nil {
		return rows, err
	}
	r, err = benchSearch(cfg, "app offline", last, sessionsSent)
	rows = append(rows, r...)
	if err != nil {
		return rows, err
	}
	r, err = benchOverview(cfg, last)
	return append(rows, r...), err
}

// signedIn signs the admin of slug in to p and returns a raw API client,
// the app's platformd client with the session's token, and a new cache
// key, which is what a bench profile needs.
func signedIn(ctx context.Context, p *platformProc, slug string) (*apiClient, *platformd.Client, []byte, error) {
	raw := newAPIClient(p.URL, 2)
	login, err := raw.login(ctx, slug, "admin@"+slug+".test")
	if err != nil {
		return nil, nil, nil, err
	}
	client, err := platformd.New(p.URL, httpx.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	key, err := newKey()
	return raw, client.WithToken(login.Token), key, err
}

// newKey is a new random cache key.
func newKey() ([]byte, error) {
	key := make([]byte, 32)
	_, err := rand.Read(key)
	return key, err
}

// syncRuns times, cfg.runs times, the floor (fetch the pages, decode and
// bulk-insert them) and a first sync of a new profile, and returns their
// rows, the last profile and how many sessions the platform sent.
func syncRuns(ctx context.Context, cfg config, raw *apiClient, client *platformd.Client, dir string, key []byte) ([]row, *syncedProfile, int, error) {
	var syncs, fetches, floors []time.Duration
	var peaks, lives []int64
	var releases []time.Duration
	var rowsWritten, sessionsSent int
	var last *syncedProfile
	for i := range cfg.runs {
		start := time.Now()
		pages := map[string][][]byte{}
		for _, path := range []string{"/sessions", "/devices"} {
			var err error
			if pages[path], err = rawPages(ctx, raw, path); err != nil {
				return nil, last, 0, err
			}
		}
		fetches = append(fetches, time.Since(start))
		start = time.Now()
		nSess, nDev, err := floor(ctx, dir, pages["/sessions"], pages["/devices"])
		if err != nil {
			return nil, last, 0, fmt.Errorf("floor: %w", err)
		}
		rowsWritten, sessionsSent = nSess+nDev, nSess
		floors = append(floors, time.Since(start))

		if last != nil {
			last.close()
		}
		if last, err = openProfile(ctx, client, dir, fmt.Sprintf("bench-%d", i), key); err != nil {
			return nil, nil, 0, err
		}
		heap := watchHeap()
		start = time.Now()
		if _, err := last.sync.SyncNow(ctx); err != nil {
			return nil, last, 0, fmt.Errorf("full sync: %w", err)
		}
		syncs = append(syncs, time.Since(start))
		peak, live, release := heap.end()
		peaks, lives, releases = append(peaks, peak), append(lives, live), append(releases, release)
		if got, want := last.sessions.Len()+last.devices.Len(), rowsWritten; got != want {
			return nil, last, 0, fmt.Errorf("full sync holds %d sessions and devices, the platform sent %d", got, want)
		}
	}
	s, f, fl := median(syncs), median(fetches), median(floors)
	size, err := cache.Size(dir, fmt.Sprintf("bench-%d", cfg.runs-1))
	if err != nil {
		return nil, last, 0, err
	}
	peak, live := medianInt(peaks), medianInt(lives)
	return []row{
		{"app sync", fmt.Sprintf("full sync into the encrypted cache (%d rows)", rowsWritten), ms(s), "≤ 2× floor", fmt.Sprintf("median of %d", len(syncs))},
		{"app sync", "floor: fetch the same pages (HTTP)", ms(f), "", ""},
		{"app sync", "floor: decode the same JSON + one bulk SQLite insert", ms(fl), "", ""},
		{"app sync", "ratio full sync / (fetch + decode + insert)", fmt.Sprintf("%.2f×", float64(s)/float64(f+fl)), "≤ 2×", fmt.Sprintf("%.2f× of decode + insert alone", float64(s)/float64(fl))},
		{"app sync", "Go heap during the full sync: peak / live after, over the start", mib(peak) + " / " + mib(live), "",
			fmt.Sprintf("median of %d; %d B per row live", len(peaks), live/int64(max(rowsWritten, 1)))},
		{"app sync", "freed heap handed back after the full sync (GC + scavenge)", ms(median(releases)), "",
			fmt.Sprintf("median of %d; syncer.ReleaseMemory, in the background after the sync", len(releases))},
		{"app sync", "cache file size after the full sync", mib(size), "", fmt.Sprintf("%d bytes, %d B per row", size, size/int64(max(rowsWritten, 1)))},
	}, last, sessionsSent, nil
}

// benchOffline times what a new process does to review a cache offline
// (open returns the loaded profile, each time anew): open the file and show
// the first window of the full list, then decrypt every row into the
// index. sent is how many sessions the cache must hold.
func benchOffline(ctx context.Context, cfg config, part string, sent int, open func() (*syncedProfile, error)) ([]row, error) {
	var opens, readies, checks []time.Duration
	var peaks []int64
	for range cfg.runs {
		heap := watchHeap()
		start := time.Now()
		prof, err := open()
		if err != nil {
			return nil, err
		}
		res := prof.sessions.Find(index.Query[domain.Session]{Sort: index.DefaultSessionSort, Desc: true, Limit: 100}, index.DefaultSessionSort)
		opens = append(opens, time.Since(start))
		// The first screen comes from SQL over the clear columns; search and
		// sorts on sealed fields wait for every row to be decrypted (Len
		// waits for the index's rows). The file's structural check runs
		// after that (WaitLoaded), not in front of the search.
		n := prof.sessions.Len()
		readies = append(readies, time.Since(start))
		err = prof.sync.WaitLoaded(ctx)
		checks = append(checks, time.Since(start))
		peak, _, _ := heap.end()
		peaks = append(peaks, peak)
		prof.close()
		switch {
		case err != nil:
			return nil, err
		case res.Total != sent:
			return nil, fmt.Errorf("offline list shows %d sessions, the platform sent %d", res.Total, sent)
		case n != res.Total:
			return nil, fmt.Errorf("index holds %d sessions after load, the first window counted %d", n, res.Total)
		}
	}
	return []row{
		{part, fmt.Sprintf("open the cache and list %d sessions (first window)", sent), ms(median(opens)), "< 300 ms", fmt.Sprintf("median of %d", len(opens))},
		{part, "… until every row is decrypted and searchable", ms(median(readies)), "< 300 ms",
			fmt.Sprintf("median of %d; file checked at %s", len(readies), ms(median(checks)))},
		{part, "Go heap during the load: peak over the start", mib(medianInt(peaks)), "", fmt.Sprintf("median of %d; the rows decrypted, packed into the index", len(peaks))},
	}, nil
}

// benchSearch times searches of the loaded profile sp for people's e-mail
// addresses (user%06d@…, as both seeds name them), a new string each time
// so that no remembered result is hit.
func benchSearch(cfg config, part string, sp *syncedProfile, total int) ([]row, error) {
	n := 0
	searches, err := timeIt(cfg.samples, func() error {
		n++
		q := fmt.Sprintf("user%05d", (n*7919+int(time.Now().UnixNano()%90000))%90000)
		res := sp.sessions.Find(index.Query[domain.Session]{Search: q, Sort: "user", Limit: 100}, index.DefaultSessionSort)
		if res.Total > total {
			return fmt.Errorf("search %q matched %d of %d", q, res.Total, total)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return []row{{part, fmt.Sprintf("search over %d sessions (new string each time), p50 / p99", total),
		ms(median(searches)) + " / " + ms(quantile(searches, 0.99)), "< 50 ms", fmt.Sprintf("%d searches", len(searches))}}, nil
}
