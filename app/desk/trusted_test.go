package desk_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sessiondesk/app/domain"
	"sessiondesk/app/keychain"
	"sessiondesk/backend/platformtest"
)

// A sign-in with TOTP and "trust this device" stores the platform's
// trusted-device secret in the keychain (and nowhere else); the next sign-in
// sends it and needs no code. Once the platform revokes the trust, the
// secret is dropped and the code is asked again.
func TestTrustedDeviceSkipsTOTPWithSecretInKeychainOnly(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d := e.Open(t)
	ctx := context.Background()
	req, st := signInTrusting(t, d, p)
	prof := st.Profile.ID
	kc := keychain.OS()
	secret, err := kc.DeviceSecret(prof)
	if err != nil || len(secret) < 32 {
		t.Fatalf("device secret in the keychain: %d chars, %v", len(secret), err)
	}
	deviceID, err := kc.DeviceID(prof)
	if err != nil || deviceID == "" {
		t.Fatalf("device id: %q %v", deviceID, err)
	}
	ws(t, d).SyncNow(ctx) // a member may not list; the cache is open all the same

	// The secret is a credential: not in the cache (while it is open, WAL
	// included), the profile file or the logs.
	noSecretOnDisk := func(when string) {
		t.Helper()
		var files []string
		for _, dir := range []string{e.Config.CacheDir, e.Config.ConfigDir} {
			fs, _ := filepath.Glob(filepath.Join(dir, "*"))
			files = append(files, fs...)
		}
		if len(files) == 0 {
			t.Fatal("no files to look at")
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s: %s holds the device secret", when, filepath.Base(f))
			}
		}
		if strings.Contains(e.Logs.String(), secret) {
			t.Errorf("%s: the logs hold the device secret", when)
		}
	}
	noSecretOnDisk("after trusting")

	// Sign out (keeping the profile's secrets) and in again: no code.
	if err := d.SignOut(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.DeviceSecret(prof); err != nil {
		t.Fatalf("sign-out without purge dropped the device secret: %v", err)
	}
	st, err = d.SignIn(ctx, req)
	if err != nil {
		t.Fatalf("second sign-in on the trusted device without a code: %v", err)
	}
	if !st.SignedIn {
		t.Fatalf("state = %+v", st)
	}
	if got, _ := kc.DeviceID(prof); got != deviceID {
		t.Fatalf("device id changed: %q → %q", deviceID, got)
	}
	if got, _ := kc.DeviceSecret(prof); got != secret {
		t.Fatal("device secret changed or dropped by a trusted sign-in")
	}
	ws(t, d).SyncNow(ctx)
	noSecretOnDisk("after the trusted sign-in")

	// The id alone is not enough: it is public (every viewer sees it).
	if err := kc.DeleteDeviceSecret(prof); err != nil {
		t.Fatal(err)
	}
	if err := d.SignOut(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SignIn(ctx, req); codeOf(err) != domain.KindMFARequired {
		t.Fatalf("sign-in with the device id but no secret: %v", err)
	}
	if err := kc.SetDeviceSecret(prof, secret); err != nil {
		t.Fatal(err)
	}

	// An admin revokes the device's trust: the next sign-in asks for the
	// code again and the worthless secret leaves the keychain.
	admin := p.Login(t, "acme", "admin@acme.test")
	c := platformClient(t, p)
	if _, err := c.WithToken(admin.Token).UntrustDevice(ctx, deviceID, "lost laptop"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SignIn(ctx, req); codeOf(err) != domain.KindMFARequired {
		t.Fatalf("sign-in after the trust was revoked: %v", err)
	}
	if _, err := kc.DeviceSecret(prof); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("device secret kept after the platform refused it: %v", err)
	}

	// Purging the profile removes every secret of it.
	if err := kc.SetDeviceSecret(prof, secret); err != nil {
		t.Fatal(err)
	}
	if err := kc.DeleteProfile(prof); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.DeviceSecret(prof); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("device secret after DeleteProfile: %v", err)
	}
}
