package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/app/syncer"
	"sessiondesk/backend/api"
)

// The live bench: how soon the app hears of a sign-in from a new device
// with the event stream against polling, and a soak of many streams on one
// organization. It runs its own platformd on a small organization (the
// stream's cost does not depend on the organization's size, and a full
// sync of the large one would only slow the setup).

const liveSlug = "livecorp"

// liveConfig sizes the live bench.
type liveConfig struct {
	signIns   int           // sign-ins timed with the stream
	streams   int           // streams held in the soak
	soakFor   time.Duration // how long the admin terminates sessions
	pollEvery time.Duration // the polling interval the stream is compared with
}

// noteClock records when the syncer's notifier is called.
type noteClock struct {
	mu    sync.Mutex
	calls map[string]time.Time // device id → first call
	wake  chan struct{}
}

func (n *noteClock) NewDevice(_ context.Context, d domain.Device, _ string) error {
	n.record(d)
	return nil
}

func (n *noteClock) NewDevices(_ context.Context, ds []domain.Device) error {
	for _, d := range ds {
		n.record(d)
	}
	return nil
}

func (n *noteClock) record(d domain.Device) {
	n.mu.Lock()
	if _, ok := n.calls[d.ID]; !ok {
		n.calls[d.ID] = time.Now()
	}
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *noteClock) at(id string) (time.Time, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	t, ok := n.calls[id]
	return t, ok
}

func benchLive(ctx context.Context, cfg config, lc liveConfig, dir string) ([]row, error) {
	db := filepath.Join(dir, "live.db")
	if _, err := seedLarge(ctx, cfg.platformd, db, liveSlug, 2000, 400); err != nil {
		return nil, err
	}
	// One session (one user) may hold every soak stream: the caps are the platform's
	// guard against a runaway client, not what is measured here.
	p, err := startPlatform(ctx, cfg.platformd, db, "--events-max-per-session", strconv.Itoa(lc.streams+10), "--events-max-per-user", strconv.Itoa(lc.streams+10))
	if err != nil {
		return nil, err
	}
	defer p.stop()

	rows, err := benchNotify(ctx, lc, p, dir)
	if err != nil {
		return rows, err
	}
	r, err := soakStreams(ctx, lc, p)
	return append(rows, r...), err
}

// benchNotify times sign-ins on new devices until the app's notifier is
// called, with the app's real syncer and stream (the platformd provider's
// live source), and computes the same for polling.
func benchNotify(ctx context.Context, lc liveConfig, p *platformProc, dir string) ([]row, error) {
	_, client, key, err := signedIn(ctx, p, liveSlug)
	if err != nil {
		return nil, err
	}
	notes := &noteClock{calls: map[string]time.Time{}, wake: make(chan struct{}, 1)}
	prof, err := openProfile(ctx, client, filepath.Join(dir, "live-profile"), "live", key, func(c *syncer.Config) {
		c.Notifier = notes
		c.Interval = time.Hour // only the stream (and the syncs it asks for) may bring the device
	})
	if err != nil {
		return nil, err
	}
	defer prof.close()
	if err := prof.sync.WaitLoaded(ctx); err != nil {
		return nil, err
	}
	if _, err := prof.sync.SyncNow(ctx); err != nil { // the baseline of seen devices
		return nil, err
	}
	stop, err := runStream(ctx, client, prof)
	if err != nil {
		return nil, err
	}
	defer stop()
	signer := newAPIClient(p.URL, 2)
	lat, err := streamLatencies(ctx, lc, signer, notes)
	if err != nil {
		return nil, err
	}
	syncMed, n, err := pollSync(ctx, lc, signer, prof)
	if err != nil {
		return nil, err
	}
	pollP50 := lc.pollEvery/2 + syncMed
	pollP99 := time.Duration(float64(lc.pollEvery)*0.99) + syncMed
	return []row{
		{"live", fmt.Sprintf("new-device sign-in → notification, stream, p50 / p99 (%d sign-ins)", len(lat)),
			ms(median(lat)) + " / " + ms(quantile(lat, 0.99)), "p99 < 1 s", "measured from the platform's answer (the sign-in committed) to the notifier call: platformd → SSE → provider/platformd → syncer → cache → notifier"},
		{"live", fmt.Sprintf("same with %s polling, p50 / p99", lc.pollEvery), ms(pollP50) + " / " + ms(pollP99), "",
			fmt.Sprintf("computed: U(0, %s) wait + measured delta sync %s (median of %d)", lc.pollEvery, ms(syncMed), n)},
	}, nil
}

// runStream runs the app's event stream into prof's syncer until the
// returned stop is called, once it is live.
func runStream(ctx context.Context, client *platformd.Client, prof *syncedProfile) (stop func(), err error) {
	streamCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		platformd.NewStream(platformd.StreamConfig{Client: client, Target: prof.sync}).Run(streamCtx)
	}()
	stop = func() { cancel(); <-done }
	for deadline := time.Now().Add(10 * time.Second); !prof.sync.Status().Live; {
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("live bench: the stream did not come up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return stop, nil
}

// streamLatencies signs in lc.signIns times, each creating a device (no
// device id sent), and times each until the notifier heard of it. The
// clock starts when the platform has answered, that is, when the sign-in
// is committed; a notification can even come first (counted as 0).
func streamLatencies(ctx context.Context, lc liveConfig, signer *apiClient, notes *noteClock) ([]time.Duration, error) {
	var lat []time.Duration
	for i := range lc.signIns {
		res, err := signer.login(ctx, liveSlug, "admin@"+liveSlug+".test")
		if err != nil {
			return nil, err
		}
		committed := time.Now()
		deadline := time.After(10 * time.Second)
		for {
			if at, ok := notes.at(res.Device.ID); ok {
				lat = append(lat, max(0, at.Sub(committed)))
				break
			}
			select {
			case <-notes.wake:
			case <-time.After(5 * time.Millisecond):
			case <-deadline:
				return nil, fmt.Errorf("live bench: sign-in %d: no notification within 10 s", i+1)
			}
		}
	}
	return lat, nil
}

// pollSync is the polling side: a sign-in waits for the next poll (uniform
// over the interval), then for that delta sync. The sync's own time is
// measured here (median, and of how many); the wait is computed for the
// interval.
func pollSync(ctx context.Context, lc liveConfig, signer *apiClient, prof *syncedProfile) (time.Duration, int, error) {
	var syncs []time.Duration
	for range max(3, lc.signIns/5) {
		if _, err := signer.login(ctx, liveSlug, "admin@"+liveSlug+".test"); err != nil {
			return 0, 0, err
		}
		t := time.Now()
		if _, err := prof.sync.SyncNow(ctx); err != nil {
			return 0, 0, err
		}
		syncs = append(syncs, time.Since(t))
	}
	return median(syncs), len(syncs), nil
}

// victimsOf lists up to n sessions (of the first 1,000) that are not of
// the person self, for an admin to terminate.
func victimsOf(ctx context.Context, c *apiClient, self string, n int) ([]string, error) {
	var victims []string
	var page api.SessionList
	if _, err := c.do(ctx, http.MethodGet, api.BasePath+"/sessions?limit=1000", nil, &page); err != nil {
		return nil, err
	}
	for _, s := range page.Items {
		if s.User.ID != self && len(victims) < n {
			victims = append(victims, s.ID)
		}
	}
	return victims, nil
}

// soakStream is one stream of the soak and what it received.
type soakStream struct {
	res    *http.Response
	ids    []string // event ids in arrival order
	ended  []string // session ids of terminated-session events, in order
	bad    int      // events out of order or repeated
	err    error
	opened chan struct{}
	mu     sync.Mutex // guards ended while the soak watches it
}

// soakStreams holds lc.streams streams on one organization while an admin
// terminates sessions, and checks that every stream got every change once,
// in order; it reports platformd's RSS before, with the streams open, and
// after the soak.
func soakStreams(ctx context.Context, lc liveConfig, p *platformProc) ([]row, error) {
	admin := newAPIClient(p.URL, 2)
	adminLogin, err := admin.login(ctx, liveSlug, "admin@"+liveSlug+".test")
	if err != nil {
		return nil, err
	}
	reader := newAPIClient(p.URL, 2)
	if _, err := reader.login(ctx, liveSlug, "admin@"+liveSlug+".test"); err != nil {
		return nil, err
	}
	victims, err := victimsOf(ctx, admin, adminLogin.User.ID, 1000)
	if err != nil {
		return nil, err
	}
	rssBefore := rssOf(p)

	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	streams, err := openStreams(streamCtx, &wg, lc.streams, p.URL, reader.token)
	if err != nil {
		return nil, err
	}
	rssOpen := rssOf(p)

	// The admin ends sessions at a brisk scripted pace for soakFor.
	var ended []string
	stop := time.Now().Add(lc.soakFor)
	for _, id := range victims {
		if time.Now().After(stop) {
			break
		}
		if _, err := admin.do(ctx, http.MethodPost, api.BasePath+"/sessions/"+id+"/terminate", api.ReasonRequest{Reason: "soak"}, nil); err != nil {
			return nil, err
		}
		ended = append(ended, id)
		time.Sleep(lc.soakFor / time.Duration(max(1, len(victims))))
	}
	settle(streams, len(ended))
	rssAfter := rssOf(p)
	cancel()
	wg.Wait()

	wrong := 0
	for _, st := range streams {
		if st.bad > 0 || strings.Join(st.ended, ",") != strings.Join(ended, ",") {
			wrong++
		}
	}
	rows := []row{
		{"live", fmt.Sprintf("%d streams on one org, %s of terminations: events to every stream", lc.streams, lc.soakFor),
			fmt.Sprintf("%d sessions × %d streams", len(ended), lc.streams), "", ""},
		{"live", "streams that missed, repeated or reordered an event", fmt.Sprint(wrong), "0", ""},
		{"live", "platformd RSS before / streams open / after the soak", mib(rssBefore) + " / " + mib(rssOpen) + " / " + mib(rssAfter),
			fmt.Sprintf("+ < 100 MiB for %d", lc.streams), "VmRSS of the platformd process"},
	}
	if wrong > 0 {
		return rows, fmt.Errorf("streams soak: %d of %d streams did not get every event once, in order", wrong, lc.streams)
	}
	return rows, nil
}

// openStreams opens n streams on base, each on its own connection as
// separate apps would hold them, read until ctx ends (wg counts them), and
// returns once all are open.
func openStreams(ctx context.Context, wg *sync.WaitGroup, n int, base, token string) ([]*soakStream, error) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableKeepAlives: true}}
	streams := make([]*soakStream, n)
	for i := range streams {
		st := &soakStream{opened: make(chan struct{})}
		streams[i] = st
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.read(ctx, hc, base, token)
		}()
	}
	openDeadline := time.After(60 * time.Second)
	for _, st := range streams {
		select {
		case <-st.opened:
		case <-openDeadline:
			return nil, fmt.Errorf("streams soak: not all %d streams opened within 60 s", n)
		}
		if st.err != nil {
			return nil, fmt.Errorf("streams soak: %w", st.err)
		}
	}
	return streams, nil
}

// settle waits up to 10 s for every stream to have seen n endings.
func settle(streams []*soakStream, n int) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		all := true
		for _, st := range streams {
			st.mu.Lock()
			got := len(st.ended)
			st.mu.Unlock()
			if got < n {
				all = false
				break
			}
		}
		if all {
			return
		}
	}
}

// read holds one stream and records its events.
func (st *soakStream) read(ctx context.Context, hc *http.Client, base, token string) {
	opened := false
	defer func() {
		if !opened {
			close(st.opened)
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+api.BasePath+"/events", nil)
	if err != nil {
		st.err = err
		return
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(req)
	if err != nil {
		st.err = err
		return
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		st.err = fmt.Errorf("GET /events: HTTP %d", res.StatusCode)
		return
	}
	var last struct {
		at   time.Time
		rank int
		id   string
	}
	ranks := map[string]int{"device": 1, "session": 2, "audit": 3}
	sseBlocks(res.Body, func(id, event, data string) {
		if event == "" && id != "" && !opened {
			opened = true
			close(st.opened)
		}
		if event == "" {
			return
		}
		var v struct {
			ID        string    `json:"id"`
			Status    string    `json:"status"`
			UpdatedAt time.Time `json:"updated_at"`
			At        time.Time `json:"at"`
		}
		_ = json.Unmarshal([]byte(data), &v)
		at := v.UpdatedAt
		if event == "audit" {
			at = v.At
		}
		r := ranks[event]
		if !(at.After(last.at) || at.Equal(last.at) && (r > last.rank || r == last.rank && v.ID > last.id)) {
			st.bad++
		}
		last.at, last.rank, last.id = at, r, v.ID
		st.mu.Lock()
		st.ids = append(st.ids, id)
		if event == "session" && v.Status == api.StatusTerminated {
			st.ended = append(st.ended, v.ID)
		}
		st.mu.Unlock()
	})
}

// sseBlocks reads a server-sent event stream and calls block with the id,
// event and data of each block (a blank line ends one) until it ends.
func sseBlocks(r io.Reader, block func(id, event, data string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var id, event, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = line[4:]
		case strings.HasPrefix(line, "event: "):
			event = line[7:]
		case strings.HasPrefix(line, "data: "):
			data = line[6:]
		case line == "":
			block(id, event, data)
			id, event, data = "", "", ""
		}
	}
}

// rssOf reads the platformd process's resident set size.
func rssOf(p *platformProc) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
