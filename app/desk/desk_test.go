package desk_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/keychain"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/backend/platformtest"
	"sessiondesk/internal/testutil"
)

func TestSignInSyncListAndNoSecretsOnDisk(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d := e.Open(t)
	st := signIn(t, d, p, "admin@acme.test")
	if !st.KeychainAvailable || st.Profile.Email != "admin@acme.test" || !st.Me.Has(domain.PermSessionsTerminateOrg) {
		t.Fatalf("state = %+v", st)
	}
	status := syncNow(t, d)
	if !status.Online || status.LastSyncAt == nil {
		t.Fatalf("status = %+v", status)
	}

	// The token is in the keychain, nowhere else.
	token, err := keychain.OS().Token(st.Profile.ID)
	if err != nil || len(token) < 16 {
		t.Fatalf("token in keychain: %q %v", token, err)
	}

	// Lists: a window, totals, the client-side active count.
	page, err := ws(t, d).ListSessions(desk.SessionQuery{Status: "all", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 10 || page.Total <= 10 || page.Offline || page.SnapshotAt == nil {
		t.Fatalf("page: %d items of %d, offline=%v", len(page.Items), page.Total, page.Offline)
	}
	active, _ := ws(t, d).ListSessions(desk.SessionQuery{Status: "active", Limit: 1000})
	if active.Total != page.ActiveCount || active.Total == 0 || active.Total >= page.Total {
		t.Fatalf("active total %d, activeCount %d, all %d", active.Total, page.ActiveCount, page.Total)
	}
	// The platform agrees on the active sessions.
	c := platformClient(t, p)
	var onPlatform int
	cursor := ""
	for {
		l, err := c.WithToken(token).ListSessions(context.Background(), platformd.ListParams{Limit: 1000, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		onPlatform += len(l.Items)
		if l.NextCursor == nil {
			break
		}
		cursor = *l.NextCursor
	}
	if onPlatform != active.Total {
		t.Fatalf("platform has %d active, app %d", onPlatform, active.Total)
	}
	// Own session is marked; search finds it.
	own, _ := ws(t, d).ListSessions(desk.SessionQuery{Search: "ADMIN@acme", Limit: 100})
	found := false
	for _, s := range own.Items {
		if !strings.Contains(strings.ToLower(s.User.Email), "admin@acme") {
			t.Fatalf("search returned %s", s.User.Email)
		}
		found = found || s.Current
	}
	if !found {
		t.Fatal("own session not found or not marked current")
	}
	// Sorting: ascending by last_active_at.
	asc, _ := ws(t, d).ListSessions(desk.SessionQuery{Status: "all", Sort: "last_active_at", Limit: 1000})
	for i := 1; i < len(asc.Items); i++ {
		if asc.Items[i].LastActiveAt.Before(asc.Items[i-1].LastActiveAt) {
			t.Fatal("not sorted by last_active_at")
		}
	}
	devs, _ := ws(t, d).ListDevices(desk.DeviceQuery{Trusted: "true", Limit: 1000})
	if devs.Total == 0 || devs.Total != devs.TrustedCount {
		t.Fatalf("trusted devices %d, count %d", devs.Total, devs.TrustedCount)
	}

	// Seeded personal data to look for on disk.
	var needles []string
	for _, s := range page.Items {
		needles = append(needles, s.User.Email, s.IP)
	}
	needles = append(needles, "admin@acme.test", "@acme.test", token)
	for _, dv := range devs.Items {
		for _, n := range []string{dv.Name, dv.LastIP, dv.User.Name} {
			if len(n) >= 6 { // too short a needle could match random bytes
				needles = append(needles, n)
			}
		}
	}

	// The cache files are read while the workspace is open, right after a
	// sync: the WAL and its index hold the latest transactions then, and
	// SQLite deletes both when the store closes. Then again once closed.
	checkFiles := func(when string, want ...string) {
		t.Helper()
		var paths []string
		for _, suffix := range want {
			paths = append(paths, filepath.Join(e.Config.CacheDir, st.Profile.ID+".db"+suffix))
		}
		testutil.CheckSealedFiles(t, when, paths, filepath.Join(e.Config.CacheDir, "*"), needles)
	}
	syncNow(t, d)
	checkFiles("open", "", "-wal", "-shm")
	d.Close()
	checkFiles("closed", "")
	cfgData, err := os.ReadFile(filepath.Join(e.Config.ConfigDir, "profiles.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(e.Config.ConfigDir, "profiles.json")); fi.Mode().Perm() != 0o600 {
		t.Errorf("profiles.json mode %v", fi.Mode().Perm())
	}
	for _, secret := range []string{token, platformtest.Password} {
		if bytes.Contains(cfgData, []byte(secret)) {
			t.Errorf("config file holds a secret")
		}
		if strings.Contains(e.Logs.String(), secret) {
			t.Errorf("logs hold a secret")
		}
	}
	if !strings.Contains(e.Logs.String(), "platform request") {
		t.Fatal("expected request logs to check")
	}

	// A restart resumes with the stored token, with the cached lists.
	d2 := e.Open(t)
	st2 := d2.State()
	if !st2.SignedIn || st2.Profile.ID != st.Profile.ID {
		t.Fatalf("after restart: %+v", st2)
	}
	again, _ := ws(t, d2).ListSessions(desk.SessionQuery{Status: "all", Limit: 10})
	if again.Total != page.Total {
		t.Fatalf("cached total after restart %d, want %d", again.Total, page.Total)
	}

	// Sign-out ends the platform session and forgets the token.
	if err := d2.SignOut(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if _, err := keychain.OS().Token(st.Profile.ID); err == nil {
		t.Fatal("token still in keychain after sign-out")
	}
	if _, err := c.WithToken(token).Me(context.Background()); !domain.IsUnauthenticated(err) {
		t.Fatalf("token still valid on the platform after sign-out: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(e.Config.CacheDir, "*.db*")); len(left) != 0 {
		t.Fatalf("purge left %v", left)
	}
}

func TestSignInErrorsAndMFA(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d := e.Open(t)
	ctx := context.Background()
	_, err := d.SignIn(ctx, desk.SignInRequest{ServerURL: p.URL(), Org: "acme", Email: "admin@acme.test", Password: "wrong"})
	if e, ok := err.(*desk.Error); !ok || e.Code != domain.KindUnauthenticated || e.Field != "password" {
		t.Fatalf("wrong password: %#v", err)
	}
	_, err = d.SignIn(ctx, desk.SignInRequest{ServerURL: "ftp://x", Org: "acme", Email: "a", Password: "b"})
	if e, ok := err.(*desk.Error); !ok || e.Field != "server" {
		t.Fatalf("bad URL: %#v", err)
	}
	// Plain http to another computer would send the password in clear text.
	_, err = d.SignIn(ctx, desk.SignInRequest{ServerURL: "http://platform.acme.test:8080", Org: "acme", Email: "admin@acme.test", Password: platformtest.Password})
	if e, ok := err.(*desk.Error); !ok || e.Field != "server" || e.Code != domain.KindInvalid || !strings.Contains(e.Message, "https://") {
		t.Fatalf("http to a remote host: %#v", err)
	}
	_, err = d.SignIn(ctx, desk.SignInRequest{ServerURL: p.URL(), Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password})
	if e, ok := err.(*desk.Error); !ok || e.Code != domain.KindMFARequired || e.Field != "totp" {
		t.Fatalf("mfa user without code: %#v", err)
	}
	_, err = d.SignIn(ctx, desk.SignInRequest{ServerURL: p.URL(), Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password, TOTP: "000000"})
	if e, ok := err.(*desk.Error); !ok || e.Field != "totp" {
		t.Fatalf("mfa user with a bad code: %#v", err)
	}
	// A code of the wrong length or with letters says how many digits a
	// code has, on the code field, before the platform is asked: it would
	// answer "not valid" and count a failed attempt.
	for _, code := range []string{"12", "1234567", "12345a"} {
		_, err = d.SignIn(ctx, desk.SignInRequest{ServerURL: p.URL(), Org: "acme", Email: "mfa@acme.test", Password: platformtest.Password, TOTP: code})
		if e, ok := err.(*desk.Error); !ok || e.Code != domain.KindInvalid || e.Field != "totp" || !strings.Contains(e.Message, "6 digits") {
			t.Fatalf("code %q: %#v", code, err)
		}
	}
	// At the code step a refused sign-in is told on the code field, the one
	// the form shows (the form relies on this and does not remap).
	_, err = d.SignIn(ctx, desk.SignInRequest{ServerURL: p.URL(), Org: "acme", Email: "mfa@acme.test", Password: "wrong", TOTP: "000000"})
	if e, ok := err.(*desk.Error); !ok || e.Code != domain.KindUnauthenticated || e.Field != "totp" {
		t.Fatalf("wrong password with a code: %#v", err)
	}
	if d.State().SignedIn {
		t.Fatal("signed in after failures")
	}
}

func TestOfflineReadsCacheAndRefusesActions(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	e.Config.SyncInterval = 300 * time.Millisecond
	d, st := e.Synced(t, p, "admin@acme.test")
	before, _ := ws(t, d).ListSessions(desk.SessionQuery{Limit: 1000})
	var victim domain.Session
	for _, s := range before.Items {
		if !s.Current {
			victim = s
			break
		}
	}

	p.Stop()
	eventually(t, 10*time.Second, "offline status", func() bool { return !ws(t, d).SyncStatus().Online })
	page, err := ws(t, d).ListSessions(desk.SessionQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !page.Offline || page.SnapshotAt == nil || page.Total != before.Total {
		t.Fatalf("offline page: offline=%v snapshot=%v total=%d want %d", page.Offline, page.SnapshotAt, page.Total, before.Total)
	}
	devs, _ := ws(t, d).ListDevices(desk.DeviceQuery{})
	if !devs.Offline {
		t.Fatal("devices not flagged offline")
	}
	_, err = ws(t, d).Terminate(context.Background(), victim.ID, "offline attempt")
	if codeOf(err) != desk.CodeOffline {
		t.Fatalf("terminate offline: %v", err)
	}
	if _, err := ws(t, d).TerminateAll(context.Background(), true, "", nil); codeOf(err) != desk.CodeOffline {
		t.Fatalf("terminate-all offline: %v", err)
	}
	if _, err := ws(t, d).RevokeTrust(context.Background(), "dev_x", ""); codeOf(err) != desk.CodeOffline {
		t.Fatalf("revoke offline: %v", err)
	}
	after, _ := ws(t, d).ListSessions(desk.SessionQuery{Limit: 1000})
	if after.Total != before.Total {
		t.Fatal("offline attempt changed the cache")
	}

	p.Restart()
	// Nothing changed on the platform.
	token, _ := keychain.OS().Token(st.Profile.ID)
	c := platformClient(t, p)
	c = c.WithToken(token)
	list, err := c.ListSessions(context.Background(), platformd.ListParams{Status: "all", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list.Items {
		if s.ID == victim.ID && s.Status != domain.StatusActive {
			t.Fatalf("victim is %s on the platform after a refused offline terminate", s.Status)
		}
	}
	// Sync resumes by itself and catches up with a change made meanwhile.
	if _, err := c.TerminateSession(context.Background(), victim.ID, "from elsewhere"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "sync to catch up", func() bool {
		pg, _ := ws(t, d).ListSessions(desk.SessionQuery{Status: "all", Search: victim.User.Email, Limit: 1000})
		for _, s := range pg.Items {
			if s.ID == victim.ID {
				return s.Status == domain.StatusTerminated && !pg.Offline
			}
		}
		return false
	})
	if got, _ := ws(t, d).ListSessions(desk.SessionQuery{Limit: 1}); got.ActiveCount != before.ActiveCount-1 {
		t.Fatalf("activeCount %d, want %d", got.ActiveCount, before.ActiveCount-1)
	}
}

func TestOwnSessionTerminatedAsksForSignIn(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})

	t.Run("terminated by another admin", func(t *testing.T) {
		e := newEnv(t)
		d, st := e.Synced(t, p, "admin@acme.test")
		other := p.Login(t, "acme", "admin@acme.test")
		c := platformClient(t, p)
		if _, err := c.WithToken(other.Token).TerminateSession(context.Background(), st.Me.SessionID, "lost laptop"); err != nil {
			t.Fatal(err)
		}
		_, _ = ws(t, d).SyncNow(context.Background())
		eventually(t, 5*time.Second, "auth:changed signedIn=false", func() bool {
			a, ok := e.Events.LastAuth()
			return ok && !a.SignedIn && strings.Contains(a.Message, "Sign in again")
		})
		if _, err := keychain.OS().Token(st.Profile.ID); err == nil {
			t.Fatal("dead token still in keychain")
		}
		if d.State().SignedIn {
			t.Fatal("still signed in")
		}
		// A restart does not resume it.
		d2 := e.Open(t)
		if d2.State().SignedIn {
			t.Fatal("resumed a dead session")
		}
	})

	t.Run("terminated from the app itself", func(t *testing.T) {
		e := newEnv(t)
		d, st := e.Synced(t, p, "auditor@acme.test")
		if _, err := ws(t, d).Terminate(context.Background(), st.Me.SessionID, ""); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "auth:changed signedIn=false", func() bool {
			a, ok := e.Events.LastAuth()
			return ok && !a.SignedIn
		})
		if _, err := keychain.OS().Token(st.Profile.ID); err == nil {
			t.Fatal("dead token still in keychain")
		}
	})

	t.Run("resume with a dead token", func(t *testing.T) {
		e := newEnv(t)
		d := e.Open(t)
		st := signIn(t, d, p, "admin@acme.test")
		d.Close()
		other := p.Login(t, "acme", "admin@acme.test")
		c := platformClient(t, p)
		if _, err := c.WithToken(other.Token).TerminateSession(context.Background(), st.Me.SessionID, ""); err != nil {
			t.Fatal(err)
		}
		d2 := e.Open(t)
		if s := d2.State(); s.SignedIn || !strings.Contains(s.Message, "Sign in again") {
			t.Fatalf("state = %+v", s)
		}
		if _, err := keychain.OS().Token(st.Profile.ID); err == nil {
			t.Fatal("dead token still in keychain")
		}
	})
}

func TestActionsUpdateListsAndAudit(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	e.Config.SyncInterval = 200 * time.Millisecond
	d, _ := e.Synced(t, p, "admin@acme.test")
	victim := p.Login(t, "acme", "member@acme.test")
	syncNow(t, d)
	s, err := ws(t, d).Terminate(context.Background(), victim.Session.ID, "test reason")
	if err != nil || s.Status != domain.StatusTerminated {
		t.Fatalf("Terminate: %+v %v", s, err)
	}
	pg, _ := ws(t, d).ListSessions(desk.SessionQuery{Status: "all", Search: "member@acme.test", Limit: 1000})
	for _, x := range pg.Items {
		if x.ID == victim.Session.ID && x.Status != domain.StatusTerminated {
			t.Fatal("list not updated right after the action")
		}
	}
	eventually(t, 5*time.Second, "audit event", func() bool {
		a, _ := ws(t, d).ListAudit(0, 10)
		return a.Total > 0 && a.Items[0].Reason == "test reason"
	})
	devs, _ := ws(t, d).ListDevices(desk.DeviceQuery{Trusted: "true", Limit: 1})
	if devs.Total == 0 {
		t.Fatal("no trusted device in the seed: revoking trust is not tested")
	}
	dv, err := ws(t, d).RevokeTrust(context.Background(), devs.Items[0].ID, "")
	if err != nil || dv.Trusted {
		t.Fatalf("RevokeTrust: %+v %v", dv, err)
	}
	after, _ := ws(t, d).ListDevices(desk.DeviceQuery{Trusted: "true", Limit: 1})
	if after.TrustedCount != devs.TrustedCount-1 {
		t.Fatalf("trusted count %d → %d", devs.TrustedCount, after.TrustedCount)
	}
}

func TestNoKeychainKeepsEverythingInMemory(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	e.Config.KeychainProbe = func(context.Context) error { return keychain.ErrUnavailable }
	d := e.Open(t)
	if st := d.State(); st.KeychainAvailable || !strings.Contains(st.KeychainMessage, "memory") {
		t.Fatalf("state = %+v", st)
	}
	st := signIn(t, d, p, "admin@acme.test")
	syncNow(t, d)
	if pg, _ := ws(t, d).ListSessions(desk.SessionQuery{}); pg.Total == 0 {
		t.Fatal("no sessions in the memory cache")
	}
	if _, err := keychain.OS().Token(st.Profile.ID); err == nil {
		t.Fatal("token reached the OS keychain")
	}
	if files, _ := filepath.Glob(filepath.Join(e.Config.CacheDir, "*.db*")); len(files) != 0 {
		t.Fatalf("cache written to disk without a keychain: %v", files)
	}
	d.Close()
	// Next run: not signed in (the token lived in memory only).
	if d2 := e.Open(t); d2.State().SignedIn {
		t.Fatal("signed in without a stored token")
	}
}

func TestCorruptCacheRebuiltWithMessage(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d, st := e.Synced(t, p, "admin@acme.test")
	want, _ := ws(t, d).ListSessions(desk.SessionQuery{Status: "all"})
	d.Close()

	path := filepath.Join(e.Config.CacheDir, st.Profile.ID+".db")
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	if err := os.WriteFile(path, bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	d2 := e.Open(t) // must not panic or fail
	s := d2.State()
	if !s.SignedIn || !strings.Contains(s.Notice, "rebuilt") {
		t.Fatalf("state after a corrupt cache: %+v", s)
	}
	if aside, _ := filepath.Glob(path + ".damaged-*"); len(aside) == 0 {
		t.Fatal("damaged file not kept aside")
	}
	syncNow(t, d2)
	got, _ := ws(t, d2).ListSessions(desk.SessionQuery{Status: "all"})
	if got.Total != want.Total {
		t.Fatalf("rebuilt cache has %d sessions, want %d", got.Total, want.Total)
	}
}

func TestOfflineStartReviewsCacheThenReconnects(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	e.Config.SyncInterval = 200 * time.Millisecond
	d, st := e.Synced(t, p, "admin@acme.test")
	want, _ := ws(t, d).ListSessions(desk.SessionQuery{Status: "all"})
	d.Close()

	p.Stop()
	d2 := e.Open(t)
	s := d2.State()
	if !s.SignedIn || s.Me == nil || s.Me.User.Email != "admin@acme.test" || !s.Me.Has(domain.PermSessionsView) {
		t.Fatalf("offline start: %+v", s)
	}
	page, _ := ws(t, d2).ListSessions(desk.SessionQuery{Status: "all"})
	if !page.Offline || page.SnapshotAt == nil || page.Total != want.Total {
		t.Fatalf("offline page: offline=%v snapshot=%v total=%d want %d", page.Offline, page.SnapshotAt, page.Total, want.Total)
	}
	p.Restart()
	eventually(t, 10*time.Second, "back online", func() bool {
		pg, _ := ws(t, d2).ListSessions(desk.SessionQuery{})
		return !pg.Offline
	})
	if tok, err := keychain.OS().Token(st.Profile.ID); err != nil || tok == "" {
		t.Fatal("token lost across the offline start")
	}
}

// An offline start opens from the cache without waiting for /me's retries:
// the platform is asked once, and a refused port is told at once. With the
// app's own retry policy (250 ms doubling, four retries) the wait was
// ~3.3 s before the window showed anything (issue 20). The list is
// searchable from the cache, the status says offline, and the sync
// reconnects by itself once the platform is back.
func TestOfflineStartDoesNotWaitForRetries(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	e.Config.SyncInterval = 200 * time.Millisecond
	d, st := e.Synced(t, p, "admin@acme.test")
	want, _ := ws(t, d).ListSessions(desk.SessionQuery{Status: "all", Search: "admin@acme.test"})
	d.Close()

	p.Stop()
	e.Config.Client.RetryWaitMin, e.Config.Client.RetryWaitMax = httpx.DefaultRetryWaitMin, httpx.DefaultRetryWaitMax
	e.Config.Client.CallTimeout = httpx.DefaultCallTimeout
	start := time.Now()
	d2 := e.Open(t) // Start: resume, then the UI's first State
	took := time.Since(start)
	s := d2.State()
	if !s.SignedIn || s.Me == nil || s.Me.User.Email != "admin@acme.test" {
		t.Fatalf("offline start: %+v", s)
	}
	// The retries' waits alone are at least 125+250+500+1000 ms.
	if took > time.Second {
		t.Fatalf("offline start took %v", took)
	}
	t.Logf("offline start: %v", took)
	page, err := ws(t, d2).ListSessions(desk.SessionQuery{Status: "all", Search: "admin@acme.test"})
	if err != nil || !page.Offline || page.Total == 0 || page.Total != want.Total {
		t.Fatalf("search offline: %d (offline %v, %v), want %d", page.Total, page.Offline, err, want.Total)
	}
	if sync := ws(t, d2).SyncStatus(); sync.Online || !strings.Contains(sync.LastError, "cannot be reached") {
		t.Fatalf("sync status of an offline start: %+v", sync)
	}
	p.Restart()
	eventually(t, 20*time.Second, "back online", func() bool {
		pg, _ := ws(t, d2).ListSessions(desk.SessionQuery{})
		return !pg.Offline
	})
	if tok, err := keychain.OS().Token(st.Profile.ID); err != nil || tok == "" {
		t.Fatal("token lost across the offline start")
	}
}
