package desk

// Credentials: what Desk keeps in the keychain for a profile (its token,
// its device id and trusted-device secret, its cache key) and what it does
// when there is no keychain. The rules of when a device secret is kept or
// dropped are here; sign-in (signin.go) only says what happened.
//
// A shared workstation (the setting) keeps nothing of a session past its
// end: no trusted-device secret is ever sent, asked for or stored, and
// every end of a session — sign-out, the platform rejecting the token
// (terminated, expired), quitting the app, a start finding a session a
// crashed run left — forgets this workstation's copy (forgetCopy). It is
// enforced here, not by the page, which only stops offering what would be
// refused.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sessiondesk/app/keychain"
	"sessiondesk/app/provider"
)

// probeKeychain asks the OS keychain whether it answers. Without one,
// secrets (and so the cache, whose key is a secret) stay in memory for this
// run, and AuthState says so.
func (d *Desk) probeKeychain(ctx context.Context) {
	probeCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err := d.cfg.KeychainProbe(probeCtx)
	cancel()
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.kc, d.kcOK = keychain.Memory(), false
		d.kcMessage = "No keychain is available (" + err.Error() + "). Your sign-in is kept in memory for this run only, and the offline cache is not saved to disk."
		d.cfg.Log.Warn("keychain unavailable; secrets and cache kept in memory for this run", "err", err)
		return
	}
	d.kc, d.kcOK, d.kcMessage = d.cfg.Keychain, true, ""
}

func (d *Desk) keychain() *keychain.Keychain {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.kc
}

// shared reports whether this is a shared workstation (the setting).
func (d *Desk) shared() bool { return d.Settings().SharedWorkstation }

// deviceCredentials returns this computer's device id for profile id and,
// when it has one, the trusted-device secret: a trusted computer proves it
// with the secret the platform gave it when it was trusted; the id alone is
// public. Unreadable values are treated as absent (a new device; the second
// factor is asked). A shared workstation sends no secret, and drops one
// kept from before the setting.
func (d *Desk) deviceCredentials(kc *keychain.Keychain, id string) (deviceID, secret string) {
	deviceID, err := kc.DeviceID(id)
	if err != nil && !errors.Is(err, keychain.ErrNotFound) {
		d.cfg.Log.Warn("device id unreadable; signing in as a new device", "err", err)
	}
	if d.shared() {
		d.forgetDeviceSecret(kc, id)
		return deviceID, ""
	}
	if deviceID == "" {
		return "", ""
	}
	secret, err = kc.DeviceSecret(id)
	if err != nil && !errors.Is(err, keychain.ErrNotFound) {
		d.cfg.Log.Warn("trusted-device secret unreadable; the second factor will be asked", "err", err)
	}
	return deviceID, secret
}

// keepDevice stores what a successful sign-in said about this computer:
// its device id, and a new trusted-device secret if the platform gave one
// (never on a shared workstation). A secret of a device the platform no
// longer trusts (or of another device id than the one sent, sentID) is
// deleted.
func (d *Desk) keepDevice(kc *keychain.Keychain, id, sentID string, resp provider.SignedIn) {
	if err := kc.SetDeviceID(id, resp.DeviceID); err != nil {
		d.cfg.Log.Warn("device id not stored", "err", err)
	}
	switch {
	case d.shared():
		d.forgetDeviceSecret(kc, id)
	case resp.DeviceSecret != "":
		if err := kc.SetDeviceSecret(id, resp.DeviceSecret); err != nil {
			d.cfg.Log.Warn("trusted-device secret not stored; the second factor will be asked next time", "err", err)
		}
	case !resp.DeviceTrusted || resp.DeviceID != sentID:
		d.forgetDeviceSecret(kc, id)
	}
}

func (d *Desk) forgetDeviceSecret(kc *keychain.Keychain, id string) {
	if err := kc.DeleteDeviceSecret(id); err != nil {
		d.cfg.Log.Warn("stale trusted-device secret not deleted", "err", err)
	}
}

// forgetCopy deletes this workstation's copy of profile id: its cache files
// and every keychain item of it (token, device id, trusted-device secret,
// cache key). The profile itself stays remembered.
func (d *Desk) forgetCopy(id string) error {
	return d.removeCacheAnd(id, "keychain", d.keychain().DeleteProfile)
}

// removeCacheAnd deletes profile id's cache files, then what also (the
// keychain's items named what) and returns what failed of either.
func (d *Desk) removeCacheAnd(id, what string, also func(id string) error) error {
	var errs []error
	if err := d.removeCache(id); err != nil {
		errs = append(errs, fmt.Errorf("cache files: %w", err))
	}
	if err := also(id); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", what, err))
	}
	return errors.Join(errs...)
}

// forgetDeviceSecrets deletes the trusted-device secret of every remembered
// account: the workstation became a shared one.
func (d *Desk) forgetDeviceSecrets() {
	ps, err := d.profiles.List()
	if err != nil {
		d.cfg.Log.Warn("remembered accounts unreadable; their device secrets stay until their next sign-in", "err", err)
		return
	}
	kc := d.keychain()
	for _, p := range ps {
		d.forgetDeviceSecret(kc, p.ID)
	}
}
