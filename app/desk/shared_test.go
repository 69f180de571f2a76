package desk_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"sessiondesk/app/cache"
	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/keychain"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/backend/platformtest"
)

// shareWorkstation saves "This is a shared workstation" on d.
func shareWorkstation(t *testing.T, d *desk.Desk) {
	t.Helper()
	s := d.Settings()
	s.SharedWorkstation = true
	if _, err := d.SaveSettings(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if !d.State().SharedWorkstation {
		t.Fatal("AuthState does not tell the UI that this is a shared workstation")
	}
}

// copyLeft lists what this workstation still holds of profile id: its
// cache files, and its keychain items (asked of go-keyring by name, which
// works on the real keychain and on the mock alike).
func copyLeft(t *testing.T, e *env, id string) []string {
	t.Helper()
	var left []string
	files, _ := os.ReadDir(e.Config.CacheDir)
	for _, f := range files {
		if strings.HasPrefix(f.Name(), id) {
			left = append(left, "cache file "+f.Name())
		}
	}
	for _, item := range []string{"token", "device", "device-secret", "cache-key"} {
		if _, err := keyring.Get(keychain.Service, id+":"+item); !errors.Is(err, keyring.ErrNotFound) {
			left = append(left, "keychain "+item)
		}
	}
	return left
}

// On a shared workstation every end of the session forgets this
// workstation's copy (cache, cache key, trusted-device secret, token):
// terminated by another admin, expired, ended while the app was not
// running, signed out (whatever the dialog said), quitting the app, and a
// run that did not end cleanly, whose session the next start does not take
// up. Real platform, real keychain (on the private D-Bus), real files.
func TestSharedWorkstationForgetsTheCopyAtEveryEndOfTheSession(t *testing.T) {
	var skew atomic.Int64
	p := platformtest.Start(t, platformtest.Options{Seed: "demo", IdleTimeout: time.Hour,
		Clock: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	e := newEnv(t)
	d := e.Open(t)
	ctx := context.Background()
	shareWorkstation(t, d)
	c := platformClient(t, p)
	kc := keychain.OS()
	var token string
	// start signs the admin in and syncs, so that the cache file and its key
	// exist, and plants a device secret as if one were left from before.
	start := func() (id, sessionID string) {
		t.Helper()
		st := signIn(t, d, p, "admin@acme.test")
		syncNow(t, d)
		id = st.Profile.ID
		if err := kc.SetDeviceSecret(id, "left-from-before"); err != nil {
			t.Fatal(err)
		}
		var err error
		if token, err = kc.Token(id); err != nil {
			t.Fatal(err)
		}
		left := strings.Join(copyLeft(t, e, id), ", ")
		for _, want := range []string{"cache file " + id + ".db", "keychain token", "keychain device-secret", "keychain cache-key"} {
			if !strings.Contains(left, want) {
				t.Fatalf("before the end, %q is missing (%s): the check after it would pass vacuously", want, left)
			}
		}
		return id, st.Me.SessionID
	}
	gone := func(when, id string) {
		t.Helper()
		eventually(t, 10*time.Second, when+": signed out", func() bool { return !d.State().SignedIn })
		var left []string
		eventually(t, 10*time.Second, when+": the copy forgotten", func() bool {
			left = copyLeft(t, e, id)
			return len(left) == 0
		})
	}
	admin := func() *platformd.Client { return c.WithToken(p.Login(t, "acme", "admin@acme.test").Token) }

	id, sid := start()
	if _, err := admin().TerminateSession(ctx, sid, "shared workstation"); err != nil {
		t.Fatal(err)
	}
	ws(t, d).SyncNow(ctx) // 401, unless the event stream told it first
	gone("terminated by another admin", id)

	id, _ = start()
	skew.Add(int64(2 * time.Hour)) // idle past the platform's timeout
	ws(t, d).SyncNow(ctx)
	gone("expired", id)

	id, sid = start()
	d.Close()
	if _, err := admin().TerminateSession(ctx, sid, "while the app was closed"); err != nil {
		t.Fatal(err)
	}
	d = e.Open(t)
	gone("ended while the app was not running", id)

	id, _ = start()
	if err := d.SignOut(ctx, false); err != nil {
		t.Fatal(err)
	}
	gone("signed out without asking to forget", id)

	id, _ = start()
	shutCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	d.Shutdown(shutCtx)
	cancel()
	gone("quitting the app", id)
	if _, err := c.WithToken(token).Me(ctx); !domain.IsUnauthenticated(err) {
		t.Errorf("the session lives on at the platform after quitting: %v", err)
	}

	id, _ = start()
	d.Close() // as a crash leaves it: nothing ended
	d = e.Open(t)
	gone("the next start after a run that did not end", id)
	if _, err := c.WithToken(token).Me(ctx); !domain.IsUnauthenticated(err) {
		t.Errorf("the session left by that run lives on at the platform: %v", err)
	}
	if _, err := os.Stat(cache.FilePath(e.Config.CacheDir, id)); err == nil {
		t.Error("the cache file is back")
	}
}

// A shared workstation never keeps a trusted-device secret: "Trust this
// device" is ignored (the platform is not asked to trust it, so the code is
// asked again next time), a secret the platform sends is not stored, and
// turning the setting on deletes the secrets kept before.
func TestSharedWorkstationNeverKeepsATrustedDeviceSecret(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d := e.Open(t)
	ctx := context.Background()
	kc := keychain.OS()

	// A secret kept for a remembered account before the setting.
	before := signIn(t, d, p, "admin@acme.test").Profile.ID
	if err := kc.SetDeviceSecret(before, "kept-before"); err != nil {
		t.Fatal(err)
	}
	if err := d.SignOut(ctx, false); err != nil {
		t.Fatal(err)
	}
	shareWorkstation(t, d)
	if _, err := kc.DeviceSecret(before); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("turning the setting on kept a remembered account's device secret: %v", err)
	}

	req, st := signInTrusting(t, d, p)
	prof := st.Profile.ID
	if _, err := kc.DeviceSecret(prof); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("a shared workstation stored a trusted-device secret: %v", err)
	}
	if err := d.SignOut(ctx, false); err != nil {
		t.Fatal(err)
	}
	// Not trusted at the platform either: the code is asked again.
	if _, err := d.SignIn(ctx, req); codeOf(err) != domain.KindMFARequired {
		t.Fatalf("the next sign-in skipped the code: %v", err)
	}
}
