// Command notifyrecorder owns org.freedesktop.Notifications on the D-Bus
// session bus of DBUS_SESSION_BUS_ADDRESS (a test's private bus, never a
// desktop's) and prints every Notify call as one JSON line on stdout, so an
// end-to-end test in another language can count the app's notifications.
// It prints "ready" once it owns the name and runs until killed.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/godbus/dbus/v5"
)

type recorder struct {
	mu   sync.Mutex
	next uint32
	enc  *json.Encoder
}

// Notify implements org.freedesktop.Notifications.Notify.
func (r *recorder) Notify(appName string, replacesID uint32, appIcon, summary, body string,
	actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	_ = r.enc.Encode(map[string]string{"app": appName, "summary": summary, "body": body})
	return r.next, nil
}

// GetCapabilities implements the method of the same name.
func (r *recorder) GetCapabilities() ([]string, *dbus.Error) { return []string{"body"}, nil }

func main() {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		fmt.Fprintln(os.Stderr, "notifyrecorder: DBUS_SESSION_BUS_ADDRESS is not set")
		os.Exit(2)
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "notifyrecorder:", err)
		os.Exit(1)
	}
	r := &recorder{enc: json.NewEncoder(os.Stdout)}
	if err := conn.Export(r, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		fmt.Fprintln(os.Stderr, "notifyrecorder:", err)
		os.Exit(1)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		fmt.Fprintln(os.Stderr, "notifyrecorder: cannot own org.freedesktop.Notifications:", reply, err)
		os.Exit(1)
	}
	fmt.Println("ready")
	select {}
}
