// Package keychain keeps the app's secrets — per profile the platform token,
// the device id the platform gave this computer, the trusted-device secret
// that lets a trusted computer skip the TOTP step, and the key that seals the
// offline cache — in the operating system's keychain through
// zalando/go-keyring (Secret Service on Linux, Keychain on macOS, Credential
// Manager on Windows), under the service name "sessiondesk".
//
// A keychain can be missing (no Secret Service on the session bus) or stuck
// (a locked collection waiting on a prompt). Probe tells which before the app
// relies on it, and every call is bounded in time so that a stuck keychain
// cannot freeze the app. When there is none, the app uses Memory instead: the
// secrets then live for this run only and are never written to a file.
package keychain

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sessiondesk/app/internal/deadline"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// Service is the name every item is stored under.
const Service = "sessiondesk"

// ErrNotFound means the keychain holds no such item.
var ErrNotFound = errors.New("keychain: item not found")

// ErrUnavailable wraps every failure to talk to the OS keychain.
var ErrUnavailable = errors.New("keychain unavailable")

// callTimeout bounds one keychain call; a Secret Service waiting on an unlock
// prompt would otherwise block forever.
const callTimeout = 10 * time.Second

// backend is the storage: the OS keychain or process memory.
type backend interface {
	get(user string) (string, error)
	set(user, value string) error
	delete(user string) error
}

// Keychain reads and writes one user's secrets, keyed by profile id.
type Keychain struct {
	b          backend
	persistent bool
}

// OS returns the operating system's keychain. It does not check that one is
// reachable: call Probe for that.
func OS() *Keychain { return &Keychain{b: osBackend{service: Service}, persistent: true} }

// Memory returns a keychain that lives in this process only: the fallback
// when the OS has none. Nothing it holds survives the run.
func Memory() *Keychain { return &Keychain{b: &memBackend{m: map[string]string{}}} }

// Persistent reports whether secrets outlive the process (OS keychain).
func (k *Keychain) Persistent() bool { return k.persistent }

// Probe checks that the OS keychain answers, with a lookup of an item that
// need not exist. The error explains what is missing, in words for a person.
func Probe(ctx context.Context) error {
	_, err := osBackend{service: Service}.getCtx(ctx, "probe")
	if err == nil || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Token returns the platform token stored for profile, or ErrNotFound.
func (k *Keychain) Token(profile string) (string, error) { return k.b.get(profile + ":token") }

// SetToken stores the platform token for profile.
func (k *Keychain) SetToken(profile, token string) error { return k.b.set(profile+":token", token) }

// DeleteToken forgets profile's token; a missing one is not an error.
func (k *Keychain) DeleteToken(profile string) error {
	return ignoreNotFound(k.b.delete(profile + ":token"))
}

// DeviceID returns the device id the platform gave this computer for
// profile, or ErrNotFound.
func (k *Keychain) DeviceID(profile string) (string, error) { return k.b.get(profile + ":device") }

// SetDeviceID stores the device id for profile.
func (k *Keychain) SetDeviceID(profile, id string) error { return k.b.set(profile+":device", id) }

// DeviceSecret returns the trusted-device secret the platform issued when
// this computer was trusted for profile (sent at sign-in to skip the TOTP
// step), or ErrNotFound. It is a credential like the token: it lives here
// only, never in a file, a log or the cache.
func (k *Keychain) DeviceSecret(profile string) (string, error) {
	return k.b.get(profile + ":device-secret")
}

// SetDeviceSecret stores profile's trusted-device secret.
func (k *Keychain) SetDeviceSecret(profile, secret string) error {
	return k.b.set(profile+":device-secret", secret)
}

// DeleteDeviceSecret forgets profile's trusted-device secret; a missing one
// is not an error.
func (k *Keychain) DeleteDeviceSecret(profile string) error {
	return ignoreNotFound(k.b.delete(profile + ":device-secret"))
}

// CacheKey returns profile's 32-byte cache key, creating and storing a random
// one the first time. created tells the caller that any cache sealed before
// is unreadable now.
func (k *Keychain) CacheKey(profile string) (key []byte, created bool, err error) {
	s, err := k.b.get(profile + ":cache-key")
	if err == nil {
		key, derr := base64.StdEncoding.DecodeString(s)
		if derr == nil && len(key) == 32 {
			return key, false, nil
		}
		// A damaged key is as good as none: replace it.
	} else if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("keychain: random cache key: %w", err)
	}
	if err := k.b.set(profile+":cache-key", base64.StdEncoding.EncodeToString(key)); err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// DeleteCacheKey forgets the profile's cache key: a cache sealed under it
// can no longer be read, even from a copy of the file.
func (k *Keychain) DeleteCacheKey(profile string) error {
	return ignoreNotFound(k.b.delete(profile + ":cache-key"))
}

// DeleteProfile forgets every secret of profile.
func (k *Keychain) DeleteProfile(profile string) error {
	var errs []error
	for _, item := range []string{":token", ":device", ":device-secret", ":cache-key"} {
		errs = append(errs, ignoreNotFound(k.b.delete(profile+item)))
	}
	return errors.Join(errs...)
}

func ignoreNotFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

type osBackend struct{ service string }

func (o osBackend) get(user string) (string, error) {
	return o.getCtx(context.Background(), user)
}

func (o osBackend) getCtx(ctx context.Context, user string) (string, error) {
	var v string
	err := bounded(ctx, func() error {
		var err error
		v, err = keyring.Get(o.service, user)
		return err
	})
	return v, err
}

func (o osBackend) set(user, value string) error {
	return bounded(context.Background(), func() error { return keyring.Set(o.service, user, value) })
}

func (o osBackend) delete(user string) error {
	return bounded(context.Background(), func() error { return keyring.Delete(o.service, user) })
}

// bounded runs one go-keyring call with a time limit and maps its errors.
// go-keyring takes no context, so a stuck call is abandoned (its goroutine
// ends when the D-Bus call does).
func bounded(ctx context.Context, fn func() error) error {
	finished, err := deadline.Call(ctx, callTimeout, fn)
	switch {
	case !finished:
		return fmt.Errorf("%w: no answer within %s (is it locked?)", ErrUnavailable, callTimeout)
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	default:
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
}

type memBackend struct {
	mu sync.Mutex
	m  map[string]string
}

func (m *memBackend) get(user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[user]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

func (m *memBackend) set(user, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[user] = value
	return nil
}

func (m *memBackend) delete(user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[user]; !ok {
		return ErrNotFound
	}
	delete(m.m, user)
	return nil
}
