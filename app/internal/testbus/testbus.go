// Package testbus gives tests a private D-Bus bus (its own dbus-daemon) and a
// recording stand-in for the desktop notification service on it, so that the
// app's notification path runs over real D-Bus without a desktop.
package testbus

import (
	"bufio"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// Start runs a private dbus-daemon for the test and returns its address.
func Start(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Fatalf("testbus: dbus-daemon not installed (apt-get install dbus): %v", err)
	}
	cmd := exec.Command(bin, "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testbus: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- strings.TrimSpace(sc.Text())
		}
		close(lines)
	}()
	select {
	case addr, ok := <-lines:
		if !ok || addr == "" {
			t.Fatal("testbus: dbus-daemon printed no address")
		}
		return addr
	case <-time.After(10 * time.Second):
		t.Fatal("testbus: dbus-daemon did not start")
	}
	return ""
}

// Note is one recorded Notify call.
type Note struct {
	AppName, Summary, Body string
}

// Notifications owns org.freedesktop.Notifications on a bus and records
// every Notify call.
type Notifications struct {
	mu    sync.Mutex
	notes []Note
	next  uint32
}

// Notify implements org.freedesktop.Notifications.Notify.
func (n *Notifications) Notify(appName string, replacesID uint32, appIcon, summary, body string,
	actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notes = append(n.notes, Note{AppName: appName, Summary: summary, Body: body})
	n.next++
	return n.next, nil
}

// GetCapabilities implements the method of the same name.
func (n *Notifications) GetCapabilities() ([]string, *dbus.Error) { return []string{"body"}, nil }

// Notes returns the calls so far.
func (n *Notifications) Notes() []Note {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Note(nil), n.notes...)
}

// Serve registers a recording notification service on the bus at address.
func Serve(t testing.TB, address string) *Notifications {
	t.Helper()
	conn, err := dbus.Connect(address)
	if err != nil {
		t.Fatalf("testbus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &Notifications{}
	if err := conn.Export(n, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("testbus: cannot own org.freedesktop.Notifications: %v %v", reply, err)
	}
	return n
}
