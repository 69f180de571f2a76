package testbus

import (
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// KeychainAccounts lists the account names ("username" attribute, as
// go-keyring stores them) of every Secret Service item of service on the
// session bus: what a look into the real keychain finds, not what the app
// says it stored.
func KeychainAccounts(t testing.TB, service string) []string {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatalf("testbus: session bus: %v", err)
	}
	defer conn.Close()
	svc := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	var unlocked, locked []dbus.ObjectPath
	// gnome-keyring once answered "Method SearchItems is not implemented"
	// (UnknownMethod) to this helper while the package's other tests used
	// the keychain in parallel (CI, 2026-12-06): its handler gives up, and
	// GDBus reports that, when it cannot serve a caller at that moment. The
	// keychain is not what failed; ask again a few times before failing.
	for try := 1; ; try++ {
		err := svc.Call("org.freedesktop.Secret.Service.SearchItems", 0, map[string]string{"service": service}).Store(&unlocked, &locked)
		var derr dbus.Error
		if err == nil {
			break
		}
		if !errors.As(err, &derr) || derr.Name != "org.freedesktop.DBus.Error.UnknownMethod" || try == 5 {
			t.Fatalf("testbus: SearchItems: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var out []string
	for _, p := range append(unlocked, locked...) {
		v, err := conn.Object("org.freedesktop.secrets", p).GetProperty("org.freedesktop.Secret.Item.Attributes")
		var derr dbus.Error
		if errors.As(err, &derr) && derr.Name == "org.freedesktop.DBus.Error.UnknownObject" {
			// Deleted since SearchItems: the package's other tests share
			// this keychain and sign out in parallel. Gone is not found.
			continue
		}
		if err != nil {
			t.Fatalf("testbus: attributes of %s: %v", p, err)
		}
		attrs, _ := v.Value().(map[string]string)
		out = append(out, attrs["username"])
	}
	sort.Strings(out)
	return out
}
