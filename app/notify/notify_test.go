//go:build !windows

package notify_test

import (
	"context"
	"strings"
	"testing"

	"sessiondesk/app/domain"
	"sessiondesk/app/internal/testbus"
	"sessiondesk/app/notify"
)

func TestNewDeviceOverDBus(t *testing.T) {
	addr := testbus.Start(t)
	rec := testbus.Serve(t, addr)
	n := notify.Connect(addr, nil)
	defer n.Close()
	d := domain.Device{ID: "dev_1", Name: "Firefox on Windows", LastIP: "203.0.113.7", User: domain.Person{Name: "Ada L", Email: "ada@acme.test"}}
	if err := n.NewDevice(context.Background(), d, "Berlin, DE"); err != nil {
		t.Fatal(err)
	}
	notes := rec.Notes()
	if len(notes) != 1 {
		t.Fatalf("notes = %v", notes)
	}
	for _, want := range []string{"Ada L", "ada@acme.test", "Firefox on Windows", "203.0.113.7", "Berlin, DE"} {
		if !strings.Contains(notes[0].Body, want) {
			t.Errorf("body %q lacks %q", notes[0].Body, want)
		}
	}
	if notes[0].AppName != notify.AppName || notes[0].Summary == "" {
		t.Errorf("note = %+v", notes[0])
	}
}

func TestMissingServiceIsNotFatal(t *testing.T) {
	addr := testbus.Start(t) // a bus without a notification service
	n := notify.Connect(addr, nil)
	defer n.Close()
	if err := n.NewDevice(context.Background(), domain.Device{ID: "d"}, ""); err == nil {
		t.Fatal("want an error to log")
	}
	noBus := notify.Connect("unix:path=/nonexistent/bus", nil)
	if err := noBus.NewDevice(context.Background(), domain.Device{ID: "d"}, ""); err == nil {
		t.Fatal("want an error to log")
	}
}

// A device or user name is chosen by whoever signs in; notification servers
// render the body as markup. Nothing in it may become markup, a line break,
// reversed text or a wall of text.
func TestNewDeviceMessageIsSafeMarkup(t *testing.T) {
	d := domain.Device{
		ID:     "dev_x",
		Name:   `<a href="https://evil.test/">Update</a> <b>now</b> & <img src=x>` + "\u202Eexe.\n\r\tline2\x00\x1b[31m",
		LastIP: "203.0.113.7<i>",
		User:   domain.Person{Name: "Mallory <script>alert(1)</script>", Email: "m&m@evil.test"},
	}
	_, body := notify.NewDeviceMessage(d, "<u>Berlin</u>, DE\n"+strings.Repeat("x", 10000))
	if strings.ContainsAny(body, "<>") {
		t.Errorf("body keeps markup: %q", body)
	}
	for i, r := range body {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202E' {
			t.Errorf("body has control character %U at %d: %q", r, i, body)
		}
	}
	for _, want := range []string{"&lt;a href=", "&lt;b&gt;now&lt;/b&gt; &amp; &lt;img", "Mallory &lt;script&gt;", "m&amp;m@evil.test", "&lt;u&gt;Berlin&lt;/u&gt;, DE"} {
		if !strings.Contains(body, want) {
			t.Errorf("body %q lacks %q", body, want)
		}
	}
	if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(body, "&amp;", ""), "&lt;", ""), "&gt;", ""), "&") {
		t.Errorf("an & is not escaped: %q", body)
	}
	if n := len([]rune(body)); n > 600 {
		t.Errorf("body is %d characters long", n)
	}
	// Over D-Bus, the same text arrives.
	addr := testbus.Start(t)
	rec := testbus.Serve(t, addr)
	n := notify.Connect(addr, nil)
	defer n.Close()
	if err := n.NewDevice(context.Background(), d, "<u>Berlin</u>"); err != nil {
		t.Fatal(err)
	}
	notes := rec.Notes()
	if len(notes) != 1 || strings.ContainsAny(notes[0].Body, "<>\n") || strings.ContainsAny(notes[0].Summary, "<>\n") {
		t.Fatalf("notes = %q", notes)
	}
}

// Many new devices at once make one summary notification, as safe as the
// single one.
func TestNewDevicesSummary(t *testing.T) {
	var ds []domain.Device
	for i := 0; i < 7; i++ {
		ds = append(ds, domain.Device{ID: "d", Name: "<b>Evil</b> & co\n", User: domain.Person{Name: "Mallory <i>", Email: "m@evil.test"}})
	}
	summary, body := notify.NewDevicesMessage(ds)
	if summary != "7 new devices signed in" {
		t.Errorf("summary = %q", summary)
	}
	if strings.ContainsAny(body, "<>\n") || !strings.Contains(body, "&lt;b&gt;Evil&lt;/b&gt; &amp; co") || !strings.Contains(body, "and 4 more") {
		t.Errorf("body = %q", body)
	}
	if strings.Count(body, "Mallory") != 3 {
		t.Errorf("body names %d devices, want 3: %q", strings.Count(body, "Mallory"), body)
	}
	addr := testbus.Start(t)
	rec := testbus.Serve(t, addr)
	n := notify.Connect(addr, nil)
	defer n.Close()
	if err := n.NewDevices(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	if notes := rec.Notes(); len(notes) != 1 || notes[0].Summary != summary || notes[0].Body != body {
		t.Fatalf("notes = %q", notes)
	}
}
