package server_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/store"
	"sessiondesk/backend/store/sqlite"
	"sessiondesk/internal/testutil"
)

// faultyStore is the real SQLite store with failures injected into two
// methods, to see what the server makes of a panic and of an internal error.
type faultyStore struct {
	store.Store
}

func (faultyStore) ListAudit(context.Context, string, store.AuditFilter) (store.Page[store.AuditEvent], error) {
	panic("audit exploded")
}

func (faultyStore) ListDevices(context.Context, string, store.DeviceFilter) (store.Page[store.Device], error) {
	return store.Page[store.Device]{}, errors.New("disk on fire at /var/secret/path")
}

func TestPanicsAndInternalErrorsDoNotLeak(t *testing.T) {
	var logs testutil.SyncBuffer
	p := platformtest.Start(t, platformtest.Options{})
	lr := p.Login(t, "acme", "admin@acme.test")
	faulty := platformtest.Start(t, platformtest.Options{Store: faultyStore{p.Store()}, Seed: "none",
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	c := newClient(t, faulty, lr.Token)
	for _, path := range []string{"/audit", "/devices"} {
		res := c.do("GET", api.BasePath+path, nil)
		if res.status != 500 || string(res.body) != `{"error":{"code":"internal","message":"internal error"}}`+"\n" {
			t.Errorf("%s = %d %s", path, res.status, res.body)
		}
	}
	// The server keeps serving after a panic.
	c.do("GET", api.BasePath+"/me", nil).decode(t, 200, nil)
	out := logs.String()
	if !strings.Contains(out, "audit exploded") || !strings.Contains(out, "disk on fire") {
		t.Errorf("internal details were not logged:\n%s", out)
	}
}

func TestHealthzUnavailable(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, platformtest.Start(t, platformtest.Options{Store: db, Seed: "none"}), "")
	c.do("GET", "/healthz", nil).decode(t, 200, nil)
	db.Close()
	if res := c.do("GET", "/healthz", nil); res.status != 503 || res.errCode() != api.CodeUnavailable {
		t.Errorf("healthz with a closed database = %d %s", res.status, res.body)
	}
}
