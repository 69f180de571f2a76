package desk_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/internal/faultproxy"
	"sessiondesk/app/internal/faultproxy/faultproxytest"
	"sessiondesk/app/keychain"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// An offline start after the cache was lost still knows who is signed in
// (kept in the profile file, 0600, without secrets): the app shows the
// offline screen with the account and Sign out, not "Loading your account…".
func TestOfflineStartAfterLostCacheKnowsWhoYouAre(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d, st := e.Synced(t, p, "admin@acme.test")
	d.Close()

	if err := cache.Remove(e.Config.CacheDir, st.Profile.ID); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	d2 := e.Open(t)
	s := d2.State()
	if !s.SignedIn || s.Me == nil || s.Me.User.Email != "admin@acme.test" || !s.Me.Has(domain.PermSessionsView) || s.Me.Org.ID == "" {
		t.Fatalf("offline start after a lost cache: %+v", s)
	}
	if page, _ := ws(t, d2).ListSessions(desk.SessionQuery{}); !page.Offline {
		t.Fatal("not offline")
	}

	// The profile file holds the identity and no secret, mode 0600.
	path := filepath.Join(e.Config.ConfigDir, "profiles.json")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("profiles file: %v %v", fi, err)
	}
	data, _ := os.ReadFile(path)
	token, _ := keychain.OS().Token(st.Profile.ID)
	if !strings.Contains(string(data), "admin@acme.test") || token == "" || strings.Contains(string(data), token) {
		t.Fatal("profiles file lacks the identity or holds the token")
	}

	// Sign out works offline and forgets the identity.
	if err := d2.SignOut(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	if strings.Contains(string(data), `"permissions"`) {
		t.Fatalf("identity kept after sign-out: %s", data)
	}
}

// Deleting the cache key from the keychain loses the cache: the user is
// told what was lost and why, and the notice survives syncs until dismissed.
func TestLostCacheKeyIsToldUntilDismissed(t *testing.T) {
	if !realKeychain {
		t.Log("runs on go-keyring's mock; the recipe in build/scripts/lib.sh gives the real keychain")
	}
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d, st := e.Synced(t, p, "admin@acme.test")
	held, _ := ws(t, d).ListSessions(desk.SessionQuery{Status: "all"})
	d.Close()

	// Only the cache key goes (the token stays): as when someone clears it
	// in the keychain manager.
	kc := keychain.OS()
	token, _ := kc.Token(st.Profile.ID)
	if err := kc.DeleteProfile(st.Profile.ID); err != nil {
		t.Fatal(err)
	}
	if err := kc.SetToken(st.Profile.ID, token); err != nil {
		t.Fatal(err)
	}
	d2 := e.Open(t)
	s := d2.State()
	if !s.SignedIn || !strings.Contains(s.Notice, "key was missing from the keychain") || !strings.Contains(s.Notice, "("+strconv.Itoa(held.Total)+" sessions)") {
		t.Fatalf("notice after the cache key was lost: %q (held %d)", s.Notice, held.Total)
	}
	// The app deleted the unreadable file itself: that is not told as a
	// deletion outside it, now or at the next start.
	if strings.Contains(s.Notice, outsideMark) {
		t.Fatalf("a lost key told as files removed outside the app: %q", s.Notice)
	}
	syncNow(t, d2)
	syncNow(t, d2)
	if d2.State().Notice != s.Notice {
		t.Fatalf("the notice changed after syncs: %q", d2.State().Notice)
	}
	d2.DismissNotice()
	if n := d2.State().Notice; n != "" {
		t.Fatalf("notice after dismiss: %q", n)
	}
}

// A damaged cache is rebuilt and the notice stays through syncs.
func TestDamagedCacheNoticeSurvivesSyncs(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d, st := e.Synced(t, p, "admin@acme.test")
	d.Close()
	path := filepath.Join(e.Config.CacheDir, st.Profile.ID+".db")
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 500)), 0o600); err != nil {
		t.Fatal(err)
	}
	d2 := e.Open(t)
	notice := d2.State().Notice
	if !strings.Contains(notice, "rebuilt") {
		t.Fatalf("notice = %q", notice)
	}
	if st := syncNow(t, d2); st.LastError != "" {
		t.Fatalf("sync: %+v", st)
	}
	if got := d2.State().Notice; got != notice {
		t.Fatalf("notice after a sync: %q", got)
	}
}

// The workstation's clock 13 hours ahead does not decide session status:
// the active count is the platform's. A 15-day jump does not empty the
// cache either.
func TestWrongWorkstationClock(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	var skew atomic.Int64
	skew.Store(int64(13 * time.Hour))
	e := newEnv(t)
	e.Config.Clock = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	d, st := e.Synced(t, p, "admin@acme.test")
	page, err := ws(t, d).ListSessions(desk.SessionQuery{Status: "active", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	token, _ := keychain.OS().Token(st.Profile.ID)
	c := platformClient(t, p)
	var onPlatform int
	lp := platformd.ListParams{Limit: domain.MaxPage}
	for {
		l, err := c.WithToken(token).ListSessions(context.Background(), lp)
		if err != nil {
			t.Fatal(err)
		}
		onPlatform += len(l.Items)
		if l.NextCursor == nil {
			break
		}
		lp.Cursor = *l.NextCursor
	}
	if onPlatform == 0 || page.ActiveCount != onPlatform || page.Total != onPlatform {
		t.Fatalf("app counts %d active (%d listed), the platform %d", page.ActiveCount, page.Total, onPlatform)
	}
	all, _ := ws(t, d).ListSessions(desk.SessionQuery{Status: "all"})
	d.Close()

	// 15 days on, offline: the cache is the only copy and stays.
	skew.Store(int64(15 * 24 * time.Hour))
	p.Stop()
	d2 := e.Open(t)
	again, _ := ws(t, d2).ListSessions(desk.SessionQuery{Status: "all"})
	if again.Total != all.Total || !again.Offline {
		t.Fatalf("after a 15-day clock jump: %d cached sessions (offline %v), want %d", again.Total, again.Offline, all.Total)
	}
}

// An action refused with 503 + Retry-After is "busy", not "offline": the
// app stays online and says when to try again.
func TestBusyPlatformIsNotOffline(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	fp := faultproxytest.Start(t, p.URL(), faultproxy.Faults{})
	e := newEnv(t)
	d := e.Open(t)
	if _, err := d.SignIn(context.Background(), desk.SignInRequest{ServerURL: fp.URL(), Org: "acme", Email: "admin@acme.test", Password: platformtest.Password}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if st := d.State(); st.Profile != nil {
			keychain.OS().DeleteProfile(st.Profile.ID)
		}
	})
	syncNow(t, d)
	page, _ := ws(t, d).ListSessions(desk.SessionQuery{Limit: 10})
	var victim string
	for _, s := range page.Items {
		if !s.Current {
			victim = s.ID
			break
		}
	}
	fp.Set(faultproxy.Faults{Status: 503, StatusCount: 100, RetryAfter: 30 * time.Second})
	_, err := ws(t, d).Terminate(context.Background(), victim, "")
	if codeOf(err) != domain.KindUnavailable || !strings.Contains(err.Error(), "busy") || !strings.Contains(err.Error(), "30s") {
		t.Fatalf("terminate against a busy platform: %v (code %q)", err, codeOf(err))
	}
	if st := ws(t, d).SyncStatus(); !st.Online || strings.Contains(st.LastError, "cannot be reached") {
		t.Fatalf("sync status after a busy answer: %+v", st)
	}
}

// A platform that answers the resume's one /me busy is there: the start
// asks again with the usual retries and opens online, not offline (only
// no answer at all opens offline at once).
func TestResumeAsksABusyPlatformAgain(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	fp := faultproxytest.Start(t, p.URL(), faultproxy.Faults{})
	e := newEnv(t)
	d := e.Open(t)
	st, err := d.SignIn(context.Background(), desk.SignInRequest{ServerURL: fp.URL(), Org: "acme", Email: "admin@acme.test", Password: platformtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keychain.OS().DeleteProfile(st.Profile.ID) })
	syncNow(t, d)
	d.Close()

	fp.Set(faultproxy.Faults{Match: func(path string) bool { return path == api.BasePath+"/me" }, Status: 503, StatusCount: 1})
	before := fp.Statuses.Load()
	d = e.Open(t)
	if s := d.State(); !s.SignedIn || s.Me == nil {
		t.Fatalf("resume after a busy /me: %+v", s)
	}
	if fp.Statuses.Load() != before+1 {
		t.Fatalf("the busy answer was not given (%d)", fp.Statuses.Load()-before)
	}
	if logs := e.Logs.String(); strings.Contains(logs, "opening offline") || !strings.Contains(logs, "offline=false") {
		t.Fatalf("opened offline after a busy answer:\n%s", logs)
	}
	if sync := ws(t, d).SyncStatus(); !sync.Online {
		t.Fatalf("offline after a busy answer: %+v", sync)
	}
}
