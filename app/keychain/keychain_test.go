package keychain_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"

	"sessiondesk/app/keychain"
)

// requireOSKeychain returns only when the real OS keychain answers. Under the
// test recipe (gnome-keyring on a private D-Bus) SESSIONDESK_REQUIRE_KEYCHAIN=1
// turns a missing keychain into a failure instead of a skip.
func requireOSKeychain(t *testing.T) {
	t.Helper()
	if err := keychain.Probe(context.Background()); err != nil {
		if os.Getenv("SESSIONDESK_REQUIRE_KEYCHAIN") == "1" {
			t.Fatalf("SESSIONDESK_REQUIRE_KEYCHAIN=1 but no keychain: %v", err)
		}
		t.Skipf("no OS keychain on this session bus (%v); run under the gnome-keyring recipe", err)
	}
}

func randomProfile(t *testing.T) string {
	b := make([]byte, 8)
	rand.Read(b)
	return "test-" + hex.EncodeToString(b)
}

func TestOSKeychainRoundTrip(t *testing.T) {
	requireOSKeychain(t)
	kc := keychain.OS()
	if !kc.Persistent() {
		t.Fatal("OS keychain must be persistent")
	}
	roundTrip(t, kc)

	// A second handle (a restart) reads what the first stored.
	p := randomProfile(t)
	t.Cleanup(func() { kc.DeleteProfile(p) })
	if err := kc.SetToken(p, "tok-restart"); err != nil {
		t.Fatal(err)
	}
	key1, created, err := kc.CacheKey(p)
	if err != nil || !created {
		t.Fatalf("CacheKey: %v created=%v", err, created)
	}
	again := keychain.OS()
	if tok, err := again.Token(p); err != nil || tok != "tok-restart" {
		t.Fatalf("Token after restart = %q, %v", tok, err)
	}
	key2, created, err := again.CacheKey(p)
	if err != nil || created || string(key1) != string(key2) {
		t.Fatalf("CacheKey after restart: created=%v same=%v err=%v", created, string(key1) == string(key2), err)
	}
}

func TestMemoryKeychain(t *testing.T) {
	kc := keychain.Memory()
	if kc.Persistent() {
		t.Fatal("memory keychain must not claim to persist")
	}
	roundTrip(t, kc)
}

func roundTrip(t *testing.T, kc *keychain.Keychain) {
	t.Helper()
	p := randomProfile(t)
	t.Cleanup(func() { kc.DeleteProfile(p) })

	if _, err := kc.Token(p); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("Token of a new profile: %v, want ErrNotFound", err)
	}
	if err := kc.SetToken(p, "secret-token-1"); err != nil {
		t.Fatal(err)
	}
	if err := kc.SetToken(p, "secret-token-2"); err != nil { // replace, not add
		t.Fatal(err)
	}
	if got, err := kc.Token(p); err != nil || got != "secret-token-2" {
		t.Fatalf("Token = %q, %v", got, err)
	}
	if err := kc.SetDeviceID(p, "dev_123"); err != nil {
		t.Fatal(err)
	}
	if got, err := kc.DeviceID(p); err != nil || got != "dev_123" {
		t.Fatalf("DeviceID = %q, %v", got, err)
	}
	if _, err := kc.DeviceSecret(p); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("DeviceSecret of a new profile: %v, want ErrNotFound", err)
	}
	if err := kc.SetDeviceSecret(p, "device-secret-1"); err != nil {
		t.Fatal(err)
	}
	if got, err := kc.DeviceSecret(p); err != nil || got != "device-secret-1" {
		t.Fatalf("DeviceSecret = %q, %v", got, err)
	}
	deletedTwice(t, "device secret", func() error { return kc.DeleteDeviceSecret(p) },
		func() error { _, err := kc.DeviceSecret(p); return err })
	if err := kc.SetDeviceSecret(p, "device-secret-2"); err != nil {
		t.Fatal(err)
	}
	key, created, err := kc.CacheKey(p)
	if err != nil || !created || len(key) != 32 {
		t.Fatalf("CacheKey = %d bytes, created=%v, %v", len(key), created, err)
	}
	key2, created, err := kc.CacheKey(p)
	if err != nil || created || string(key) != string(key2) {
		t.Fatalf("second CacheKey: created=%v same=%v %v", created, string(key) == string(key2), err)
	}
	deletedTwice(t, "token", func() error { return kc.DeleteToken(p) },
		func() error { _, err := kc.Token(p); return err })
	if got, err := kc.DeviceID(p); err != nil || got != "dev_123" {
		t.Fatalf("DeviceID must survive token deletion: %q, %v", got, err)
	}
	if err := kc.DeleteProfile(p); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.DeviceID(p); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("DeviceID after DeleteProfile: %v", err)
	}
	if _, err := kc.DeviceSecret(p); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("DeviceSecret after DeleteProfile: %v", err)
	}
}

// deletedTwice deletes an item (what) twice: both succeed, a missing item
// is no error, and get then finds nothing.
func deletedTwice(t *testing.T, what string, del, get func() error) {
	t.Helper()
	if err := del(); err != nil {
		t.Fatal(err)
	}
	if err := del(); err != nil {
		t.Fatalf("deleting a missing %s: %v", what, err)
	}
	if err := get(); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("%s after delete: %v, want ErrNotFound", what, err)
	}
}
