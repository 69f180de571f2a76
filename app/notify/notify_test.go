package notify_test

import (
	"context"
	"strings"
	"testing"

	"sessiondesk/app/internal/testbus"
	"sessiondesk/app/notify"
	"sessiondesk/backend/api"
)

func TestNewDeviceOverDBus(t *testing.T) {
	addr := testbus.Start(t)
	rec := testbus.Serve(t, addr)
	n := notify.Connect(addr, nil)
	defer n.Close()
	d := api.Device{ID: "dev_1", Name: "Firefox on Windows", LastIP: "203.0.113.7", User: api.User{Name: "Ada L", Email: "ada@acme.test"}}
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
	if err := n.NewDevice(context.Background(), api.Device{ID: "d"}, ""); err == nil {
		t.Fatal("want an error to log")
	}
	noBus := notify.Connect("unix:path=/nonexistent/bus", nil)
	if err := noBus.NewDevice(context.Background(), api.Device{ID: "d"}, ""); err == nil {
		t.Fatal("want an error to log")
	}
}
