package desk_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sessiondesk/app/desk"
	"sessiondesk/backend/platformtest"
)

// outsideMark is the part of the notice that says the cache files were
// deleted by something other than the app.
const outsideMark = "removed outside Sessions Desk"

// deleteCacheFiles removes a profile's cache files as a person or a cleaning
// tool would: straight from the folder, without the app.
func deleteCacheFiles(t *testing.T, e *env, id string) {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(e.Config.CacheDir, id+".db*"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no cache files of %s to delete (%v): the test would prove nothing", id, err)
	}
	for _, f := range matches {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
}

// Cache files deleted outside the app: the profile file remembers that a
// cache was written for the account, so the next start tells the user what
// is missing, where and why, and the notice stays through syncs until
// dismissed. Once the cache is written again, a later start says nothing.
func TestDeletedCacheFilesAreToldUntilDismissed(t *testing.T) {
	if !realKeychain {
		t.Log("runs on go-keyring's mock; the recipe in build/scripts/lib.sh gives the real keychain")
	}
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d := e.Open(t)
	st := signIn(t, d, p, "admin@acme.test")
	if n := d.State().Notice; n != "" {
		t.Fatalf("a first sign-in told of a loss: %q", n)
	}
	syncNow(t, d)
	d.Close()

	id := st.Profile.ID
	deleteCacheFiles(t, e, id)
	d2 := e.Open(t)
	s := d2.State()
	path := filepath.Join(e.Config.CacheDir, id+".db")
	if !s.SignedIn || !strings.Contains(s.Notice, outsideMark) || !strings.Contains(s.Notice, path) || !strings.Contains(s.Notice, "admin@acme.test") {
		t.Fatalf("notice after the cache files were deleted: %q (want %q, the path %s and the account)", s.Notice, outsideMark, path)
	}
	if last, ok := e.Events.LastAuth(); !ok || last.Notice != s.Notice {
		t.Fatalf("the UI was not told: %+v", last)
	}
	// The data comes back with the next sync; the notice stays.
	syncNow(t, d2)
	syncNow(t, d2)
	if page, err := ws(t, d2).ListSessions(desk.SessionQuery{Status: "all", Limit: 10}); err != nil || page.Total == 0 {
		t.Fatalf("nothing synced after the loss: %v", err)
	}
	if got := d2.State().Notice; got != s.Notice {
		t.Fatalf("the notice changed after syncs: %q", got)
	}
	d2.DismissNotice()
	if n := d2.State().Notice; n != "" {
		t.Fatalf("notice after dismiss: %q", n)
	}
	d2.Close()

	// Written again: the next start has nothing to tell.
	d3 := e.Open(t)
	if s := d3.State(); !s.SignedIn || s.Notice != "" {
		t.Fatalf("a start after the cache was written again: signedIn=%v notice=%q", s.SignedIn, s.Notice)
	}
}

// The same holds when the files go while the user is signed out without
// forgetting (the cache is kept for the next sign-in, so is the mark).
func TestCacheDeletedWhileSignedOutIsToldAtSignIn(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d, st := e.Synced(t, p, "admin@acme.test")
	if err := d.SignOut(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	deleteCacheFiles(t, e, st.Profile.ID)
	signIn(t, d, p, "admin@acme.test")
	if n := d.State().Notice; !strings.Contains(n, outsideMark) {
		t.Fatalf("notice at sign-in after the kept cache was deleted: %q", n)
	}
}

// The app's own deletions are not losses to tell: "Forget cached data now",
// sign-out with forgetting and removing the account each clear the mark
// with the files, so the next open finds no file and says nothing.
func TestOwnCacheDeletionsAreNotTold(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d := e.Open(t)
	ctx := context.Background()
	noNotice := func(when string) {
		t.Helper()
		if n := d.State().Notice; n != "" {
			t.Fatalf("%s: notice %q", when, n)
		}
	}

	st := signIn(t, d, p, "admin@acme.test")
	id := st.Profile.ID
	noNotice("first sign-in")
	syncNow(t, d)

	// Forget cached data now: the files and the key go, the workspace
	// opens again at once on a new file.
	if err := d.ForgetCachedData(ctx); err != nil {
		t.Fatal(err)
	}
	noNotice("after Forget cached data now")
	syncNow(t, d)

	// Sign out forgetting this workstation's copy, then sign in again.
	if err := d.SignOut(ctx, true); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(e.Config.CacheDir, id+".db*")); len(left) > 0 {
		t.Fatalf("cache files left after sign-out with forgetting: %v", left)
	}
	signIn(t, d, p, "admin@acme.test")
	noNotice("sign-in after sign-out with forgetting")
	syncNow(t, d)

	// A second account, signed out keeping its cache (so its mark stays),
	// is removed while another is open: its mark goes with it.
	if err := d.SignOut(ctx, false); err != nil {
		t.Fatal(err)
	}
	other := signIn(t, d, p, "auditor@acme.test")
	syncNow(t, d)
	if err := d.SignOut(ctx, false); err != nil {
		t.Fatal(err)
	}
	signIn(t, d, p, "admin@acme.test")
	if err := d.RemoveProfile(ctx, other.Profile.ID); err != nil {
		t.Fatal(err)
	}
	signIn(t, d, p, "auditor@acme.test")
	noNotice("sign-in after the signed-out account was removed")
	syncNow(t, d)
	if err := d.SignOut(ctx, false); err != nil {
		t.Fatal(err)
	}
	signIn(t, d, p, "admin@acme.test")
	noNotice("sign-in back to the first account")

	// Remove the account (open at the time), then sign in with it again.
	if err := d.RemoveProfile(ctx, id); err != nil {
		t.Fatal(err)
	}
	signIn(t, d, p, "admin@acme.test")
	noNotice("sign-in after the account was removed")
	syncNow(t, d)
	d.Close()

	// And a restart over all that is quiet too: what the app deleted
	// itself is never reported as deleted outside it.
	d2 := e.Open(t)
	if s := d2.State(); !s.SignedIn || s.Notice != "" {
		t.Fatalf("restart: signedIn=%v notice=%q", s.SignedIn, s.Notice)
	}
}

// Files deleted while the app runs are found when the workspace opens again
// (here: a new retention reopens it), and the UI hears of it then, not only
// at the next sign-in.
func TestCacheDeletedWhileOpenIsToldAtReopen(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d, st := e.Synced(t, p, "admin@acme.test")
	deleteCacheFiles(t, e, st.Profile.ID)
	s := d.Settings()
	s.RetentionDays = 3
	if _, err := d.SaveSettings(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if last, ok := e.Events.LastAuth(); !ok || !last.SignedIn || !strings.Contains(last.Notice, outsideMark) {
		t.Fatalf("the UI was not told at the reopen: %+v", last)
	}
}
