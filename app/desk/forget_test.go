package desk_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sessiondesk/app/desk"
	"sessiondesk/app/internal/testbus"
	"sessiondesk/app/keychain"
	"sessiondesk/app/profile"
	"sessiondesk/app/settings"
	"sessiondesk/backend/platformtest"
)

// leftovers lists what of profile id (or its e-mail) remains: files in the
// config and cache folders whose name or content mentions it, and keychain
// items named after it. The keychain is listed over D-Bus when it is the
// real one; under go-keyring's mock each known item is asked for.
func leftovers(t *testing.T, e *env, id, email string) []string {
	t.Helper()
	var found []string
	for _, dir := range []string{e.Config.ConfigDir, e.Config.CacheDir} {
		filepath.WalkDir(dir, func(path string, de os.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return nil
			}
			data, _ := os.ReadFile(path)
			if strings.Contains(de.Name(), id) || strings.Contains(string(data), id) || strings.Contains(string(data), email) {
				found = append(found, "file "+path)
			}
			return nil
		})
	}
	if realKeychain {
		for _, acct := range testbus.KeychainAccounts(t, keychain.Service) {
			if strings.HasPrefix(acct, id+":") {
				found = append(found, "keychain "+acct)
			}
		}
	} else {
		kc := keychain.OS()
		for name, get := range map[string]func(string) (string, error){"token": kc.Token, "device": kc.DeviceID, "device-secret": kc.DeviceSecret} {
			if _, err := get(id); !errors.Is(err, keychain.ErrNotFound) {
				found = append(found, "keychain "+id+":"+name)
			}
		}
	}
	return found
}

func TestRemoveProfileLeavesNothingBehind(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d, st := e.Synced(t, p, "admin@acme.test")
	id := st.Profile.ID
	// A second account stays: removal is per account.
	if err := d.SignOut(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	other := signIn(t, d, p, "auditor@acme.test")
	syncNow(t, d)
	before := strings.Join(leftovers(t, e, id, "admin@acme.test"), "\n")
	for _, want := range []string{"profiles.json", id + ".db", "keychain " + id + ":cache-key", "keychain " + id + ":device"} {
		if !realKeychain && strings.Contains(want, "cache-key") {
			continue // the mock is asked item by item, the cache key not among them
		}
		if !strings.Contains(before, want) {
			t.Fatalf("before removal %q was not found, so the check after it would pass vacuously; found:\n%s", want, before)
		}
	}

	if err := d.RemoveProfile(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if got := leftovers(t, e, id, "admin@acme.test"); len(got) > 0 {
		t.Fatalf("after removing the account these remain:\n%s", strings.Join(got, "\n"))
	}
	if !d.SignedInAs(other.Profile.ID) {
		t.Fatal("removing another account signed the open one out")
	}
	ps, _ := d.Profiles()
	if len(ps) != 1 || ps[0].ID != other.Profile.ID {
		t.Fatalf("remembered accounts after removal: %+v", ps)
	}

	// Removing the open account signs it out and leaves nothing either.
	if err := d.RemoveProfile(context.Background(), other.Profile.ID); err != nil {
		t.Fatal(err)
	}
	if d.State().SignedIn {
		t.Fatal("still signed in after removing the open account")
	}
	if got := leftovers(t, e, other.Profile.ID, "auditor@acme.test"); len(got) > 0 {
		t.Fatalf("after removing the open account these remain:\n%s", strings.Join(got, "\n"))
	}
}

// authHook is a recorder that also calls signedOut whenever a signed-out
// state is announced.
type authHook struct {
	*recorder
	signedOut func()
}

func (h *authHook) AuthChanged(st desk.AuthState) {
	h.recorder.AuthChanged(st)
	if !st.SignedIn {
		h.signedOut()
	}
}

// The UI shows the sign-in form, with the remembered accounts, as soon as
// it hears that the open account was signed out. When that account is being
// removed, it must be gone by then: otherwise the form lists it again, and
// the profiles file still names it when the user looks.
func TestRemovedOpenAccountIsGoneWhenTheSignOutIsAnnounced(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	var (
		mu        sync.Mutex
		id        string // armed once set
		announced int
		seen      []string
		listed    int
	)
	e.Config.Events = &authHook{recorder: e.Events, signedOut: func() {
		mu.Lock()
		defer mu.Unlock()
		if id == "" {
			return
		}
		announced++
		seen = append(seen, leftovers(t, e, id, "admin@acme.test")...)
		// What the sign-in form lists at that moment.
		if ps, err := profile.Open(e.Config.ConfigDir); err == nil {
			all, _ := ps.List()
			listed = len(all)
		}
	}}
	d, st := e.Synced(t, p, "admin@acme.test")
	if got := leftovers(t, e, st.Profile.ID, "admin@acme.test"); len(got) == 0 {
		t.Fatal("nothing of the account found before removal, so the check after it would pass vacuously")
	}
	mu.Lock()
	id = st.Profile.ID
	mu.Unlock()

	if err := d.RemoveProfile(context.Background(), st.Profile.ID); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if announced == 0 {
		t.Fatal("removing the open account did not announce the sign-out")
	}
	if len(seen) > 0 || listed > 0 {
		t.Fatalf("when the sign-out was announced, the removed account was still there (%d remembered accounts):\n%s", listed, strings.Join(seen, "\n"))
	}
}

func TestSignOutForgettingLeavesNoCacheNoKeyNoDeviceSecret(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d, st := e.Synced(t, p, "admin@acme.test")
	id := st.Profile.ID
	kc := keychain.OS()
	// A trusted-device secret as the platform would have given it.
	if err := kc.SetDeviceSecret(id, "secret-from-platform"); err != nil {
		t.Fatal(err)
	}
	if err := d.SignOut(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(e.Config.CacheDir)
	for _, f := range files {
		if strings.HasPrefix(f.Name(), id) {
			t.Errorf("cache file %s survived sign-out with forget", f.Name())
		}
	}
	if realKeychain {
		if accts := testbus.KeychainAccounts(t, keychain.Service); len(accts) > 0 {
			for _, a := range accts {
				if strings.HasPrefix(a, id+":") {
					t.Errorf("keychain item %s survived sign-out with forget", a)
				}
			}
		}
	}
	if _, err := kc.DeviceSecret(id); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("device secret after forget: %v", err)
	}
	// The account stays remembered (removing it is a separate choice).
	if ps, _ := d.Profiles(); len(ps) != 1 {
		t.Fatalf("profiles after sign-out: %+v", ps)
	}
}

func TestForgetCachedDataNowStartsOverWithANewKey(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d, st := e.Synced(t, p, "admin@acme.test")
	id := st.Profile.ID
	kc := keychain.OS()
	key1, created, err := kc.CacheKey(id)
	if err != nil || created {
		t.Fatalf("cache key before: created=%v %v", created, err)
	}
	info, err := d.CacheInfo(context.Background())
	if err != nil || info.Bytes == 0 || info.Oldest.IsZero() || info.Folder != e.Config.CacheDir || !info.Encrypted {
		t.Fatalf("cache info before: %+v %v", info, err)
	}
	if !info.KeyInKeychain {
		t.Fatal("the cache key is in the keychain, but CacheInfo says not")
	}
	if err := d.ForgetCachedData(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !d.SignedInAs(id) {
		t.Fatal("forgetting the cache signed the user out")
	}
	key2, _, err := kc.CacheKey(id)
	if err != nil || string(key1) == string(key2) {
		t.Fatalf("the cache key was not replaced (%v)", err)
	}
	// The next sync brings the platform's current state back under the new key.
	syncNow(t, d)
	if page, err := ws(t, d).ListSessions(desk.SessionQuery{Status: "all", Limit: 10}); err != nil || page.Total == 0 {
		t.Fatalf("nothing synced after forgetting: %v", err)
	}
}

// Notifications off in Settings: a new device raises nothing on the real
// D-Bus path; back on, the next new device does. Saving a new retention or
// sync interval reopens the workspace without signing out.
func TestSettingsNotificationsOffAndRetentionApply(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e, rec := notifyingEnv(t, true)
	d, st := e.Synced(t, p, "admin@acme.test")

	s := d.Settings()
	if !s.Notifications || s.RetentionDays != 14 {
		t.Fatalf("defaults: %+v", s)
	}
	s.Notifications, s.RetentionDays, s.SyncIntervalSeconds = false, 2, 600
	if _, err := d.SaveSettings(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if !d.SignedInAs(st.Profile.ID) {
		t.Fatal("saving settings signed the user out")
	}
	if info, err := d.CacheInfo(context.Background()); err != nil || info.RetentionDays != 2 {
		t.Fatalf("retention after save: %+v %v", info, err)
	}
	p.Login(t, "acme", "member@acme.test")
	syncNow(t, d)
	if got := rec.Notes(); len(got) != 0 {
		t.Fatalf("notified with notifications off: %v", got)
	}
	s.Notifications = true
	if _, err := d.SaveSettings(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	p.Login(t, "acme", "auditor@acme.test")
	syncNow(t, d)
	if got := rec.Notes(); len(got) != 1 || !strings.Contains(got[0].Body, "auditor@acme.test") {
		t.Fatalf("after turning notifications back on: %v", got)
	}
	// Out of bounds is refused and changes nothing.
	bad := s
	bad.RetentionDays = 31
	if _, err := d.SaveSettings(context.Background(), bad); codeOf(err) != "invalid_argument" {
		t.Fatalf("retention 31: %v", err)
	}
	if d.Settings().RetentionDays != 2 {
		t.Fatal("a refused save changed the settings")
	}
	// Each refusal names its field and says the bounds in a sentence.
	for _, tc := range []struct {
		edit        func(*settings.Settings)
		field, want string
	}{
		{func(s *settings.Settings) { s.RetentionDays = 31 }, "retentionDays", "Keep cached data between 1 and 30 days."},
		{func(s *settings.Settings) { s.SyncIntervalSeconds = 5 }, "syncIntervalSeconds", "Sync every 10 seconds to 60 minutes."},
		{func(s *settings.Settings) { s.TimeStyle = "sundial" }, "timeStyle", "Show times as relative or exact."},
		{func(s *settings.Settings) { s.TimeZone = "Mars" }, "timeZone", "Show times in local time or UTC."},
	} {
		bad := s
		tc.edit(&bad)
		_, err := d.SaveSettings(context.Background(), bad)
		var ue *desk.Error
		if !errors.As(err, &ue) || ue.Field != tc.field || ue.Message != tc.want {
			t.Errorf("%s out of bounds: %#v, want field %s and %q", tc.field, err, tc.field, tc.want)
		}
	}
}
