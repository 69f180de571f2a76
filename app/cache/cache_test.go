package cache_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/internal/testutil"
)

func key(t *testing.T) []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func sampleSessions(n int, now time.Time) []domain.Session {
	out := make([]domain.Session, n)
	for i := range out {
		dev := fmt.Sprintf("dev_%04d", i)
		out[i] = domain.Session{
			ID:       fmt.Sprintf("ses_%04d", i),
			User:     domain.Person{ID: fmt.Sprintf("usr_%04d", i), Email: fmt.Sprintf("person%04d@clinic.test", i), Name: fmt.Sprintf("Person Number%04d", i)},
			DeviceID: &dev, IP: fmt.Sprintf("198.51.100.%d", i%250), UserAgent: "Mozilla/5.0 SecretAgent", Client: "Firefox 133 on Linux",
			Location: "Reykjavik, IS", CreatedAt: now.Add(-time.Hour), LastActiveAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour),
			UpdatedAt: now.Add(-time.Duration(i) * time.Second), Status: domain.StatusActive,
		}
	}
	return out
}

func open(t *testing.T, dir string, k []byte, clock func() time.Time) (*cache.Store, string) {
	t.Helper()
	st, lost, err := cache.Open(context.Background(), cache.Options{Dir: dir, Profile: "p1", Key: k, Clock: clock})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if lost == nil {
		return st, ""
	}
	// What was lost, for the tests to read (the desk words it for the user).
	return st, "rebuilt empty; the damaged file kept as " + lost.Aside
}

func TestRoundTripSealedAndPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	k := key(t)
	now := time.Now().UTC()
	st, notice := open(t, dir, k, nil)
	if notice != "" {
		t.Fatalf("notice on a new cache: %q", notice)
	}
	sess := sampleSessions(50, now)
	devs := []domain.Device{{ID: "dev_0001", User: sess[1].User, Name: "Secret Laptop", Platform: "Linux", LastIP: "203.0.113.99", FirstSeenAt: now, LastSeenAt: now, UpdatedAt: now}}
	audit := []domain.AuditEvent{{ID: "aud_1", At: now, Actor: sess[2].User, Action: domain.ActionSessionTerminate, Reason: "stolen-laptop-reason"},
		{ID: "aud_2", At: now, Actor: sess[2].User, Action: domain.ActionSessionsTerminateSelected, Count: 2, TargetIDs: []string{"ses_bulk_ended_1", "ses_bulk_ended_2"}}}
	applied, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: sess, Devices: devs, Audit: audit, SessionsMark: now, DevicesMark: now})
	if err != nil {
		t.Fatal(err)
	}
	if !applied.FirstSync || len(applied.NewDevices) != 0 {
		t.Fatalf("first sync: %+v", applied)
	}
	if err := st.SetMe(context.Background(), domain.Me{User: sess[3].User, Permissions: []string{domain.PermSessionsView}}); err != nil {
		t.Fatal(err)
	}

	// Files: 0600 in a 0700 directory, and none of the personal text. They
	// are read while the store is open, when the WAL and its index still
	// hold the transactions just written (SQLite deletes both on close),
	// and again once it is closed.
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", fi.Mode().Perm())
	}
	secrets := []string{"person0001@clinic.test", "Person Number", "198.51.100.7", "Reykjavik", "SecretAgent", "Secret Laptop", "203.0.113.99", "stolen-laptop-reason", "clinic.test", "ses_bulk_ended"}
	checkFiles := func(when string, want ...string) {
		t.Helper()
		var paths []string
		for _, name := range want {
			paths = append(paths, filepath.Join(dir, name))
		}
		testutil.CheckSealedFiles(t, when, paths, filepath.Join(dir, "p1.db*"), secrets)
	}
	checkFiles("open", "p1.db", "p1.db-wal", "p1.db-shm")
	st.Close()
	checkFiles("closed", "p1.db")

	// Reopen (a restart): the data comes back.
	st, _ = open(t, dir, k, nil)
	defer st.Close()
	got, err := st.Sessions(context.Background())
	if err != nil || len(got) != 50 {
		t.Fatalf("Sessions = %d, %v", len(got), err)
	}
	events, err := st.Audit(context.Background())
	if err != nil || len(events) != 2 {
		t.Fatalf("Audit = %d, %v", len(events), err)
	}
	for _, ev := range events {
		if ev.ID == "aud_2" && strings.Join(ev.TargetIDs, ",") != "ses_bulk_ended_1,ses_bulk_ended_2" {
			t.Fatalf("target_ids after a restart: %v", ev.TargetIDs)
		}
	}
	me, ok, err := st.Me(context.Background())
	if err != nil || !ok || me.User.Email != sess[3].User.Email {
		t.Fatalf("Me = %+v %v %v", me, ok, err)
	}
	state, _ := st.State(context.Background())
	if !state.SessionsMark.Equal(now) || state.SnapshotAt.IsZero() {
		t.Fatalf("state = %+v", state)
	}
}

func TestNewDevicesOncePersisted(t *testing.T) {
	dir := t.TempDir()
	k := key(t)
	now := time.Now()
	dev := func(id string) domain.Device {
		return domain.Device{ID: id, FirstSeenAt: now, LastSeenAt: now, UpdatedAt: now}
	}
	st, _ := open(t, dir, k, nil)
	a, _ := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Devices: []domain.Device{dev("d1"), dev("d2")}})
	if !a.FirstSync || len(a.NewDevices) != 0 {
		t.Fatalf("first sync announced %v", a.NewDevices)
	}
	a, _ = st.Apply(context.Background(), cache.Snapshot{Complete: true, Devices: []domain.Device{dev("d2"), dev("d3")}})
	if a.FirstSync || len(a.NewDevices) != 1 || a.NewDevices[0].ID != "d3" {
		t.Fatalf("second sync: %+v", a)
	}
	st.Close()
	st, _ = open(t, dir, k, nil)
	defer st.Close()
	a, _ = st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Devices: []domain.Device{dev("d1"), dev("d3")}})
	if len(a.NewDevices) != 0 {
		t.Fatalf("after restart announced again: %v", a.NewDevices)
	}
}

func TestCorruptFileMovedAsideAndRebuilt(t *testing.T) {
	dir := t.TempDir()
	k := key(t)
	path := filepath.Join(dir, "p1.db")
	if err := os.WriteFile(path, bytes.Repeat([]byte("this is not a database "), 500), 0o600); err != nil {
		t.Fatal(err)
	}
	st, notice := open(t, dir, k, nil)
	defer st.Close()
	if !strings.Contains(notice, "rebuilt") {
		t.Fatalf("notice = %q", notice)
	}
	aside, _ := filepath.Glob(path + ".damaged-*")
	if len(aside) != 1 {
		t.Fatalf("moved-aside files: %v", aside)
	}
	if _, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: sampleSessions(3, time.Now())}); err != nil {
		t.Fatalf("rebuilt cache unusable: %v", err)
	}

	t.Run("damaged pages in a real database", func(t *testing.T) {
		dir := t.TempDir()
		st, _ := open(t, dir, k, nil)
		st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: sampleSessions(400, time.Now())})
		st.Close()
		p := filepath.Join(dir, "p1.db")
		data, _ := os.ReadFile(p)
		for i := 4096; i < len(data); i += 4096 { // keep the header, wreck every page
			copy(data[i:], bytes.Repeat([]byte{0xA5}, 200))
		}
		os.WriteFile(p, data, 0o600)
		os.Remove(p + "-wal")
		os.Remove(p + "-shm")
		st, notice := open(t, dir, k, nil)
		defer st.Close()
		if notice == "" {
			t.Fatal("no notice for a damaged database")
		}
		if got, err := st.Sessions(context.Background()); err != nil || len(got) != 0 {
			t.Fatalf("rebuilt cache: %d rows, %v", len(got), err)
		}
	})

	t.Run("another key", func(t *testing.T) {
		dir := t.TempDir()
		st, _ := open(t, dir, k, nil)
		st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: sampleSessions(3, time.Now())})
		st.Close()
		st, notice := open(t, dir, key(t), nil)
		defer st.Close()
		if notice == "" {
			t.Fatal("no notice for a key mismatch")
		}
	})
}

func TestRetention(t *testing.T) {
	dir := t.TempDir()
	k := key(t)
	now := time.Now().UTC()
	clock := func() time.Time { return now }
	st, _ := open(t, dir, k, clock)
	sess := sampleSessions(3, now)
	old := now.Add(-20 * 24 * time.Hour)
	sess[0].Status, sess[0].UpdatedAt = domain.StatusTerminated, old
	sess[1].ExpiresAt = old // long expired without a status change
	audit := []domain.AuditEvent{{ID: "old", At: old}, {ID: "new", At: now}}
	if _, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: sess, Audit: audit}); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Sessions(context.Background())
	if len(got) != 1 || got[0].ID != sess[2].ID {
		t.Fatalf("after retention: %v", got)
	}
	ev, _ := st.Audit(context.Background())
	if len(ev) != 1 || ev[0].ID != "new" {
		t.Fatalf("audit after retention: %v", ev)
	}
	st.Close()

	// The workstation's clock jumps 15 days ahead: opening keeps the only
	// copy, and a sync whose platform time is still "now" prunes nothing
	// more.
	now = now.Add(15 * 24 * time.Hour)
	st, _ = open(t, dir, k, clock)
	defer st.Close()
	if got, _ := st.Sessions(context.Background()); len(got) != 1 {
		t.Fatalf("a clock jump on open left %d sessions, want 1", len(got))
	}
	if _, err := st.Apply(context.Background(), cache.Snapshot{Complete: true, ServerNow: now.Add(-15 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Sessions(context.Background()); len(got) != 1 {
		t.Fatalf("retention on the platform's clock left %d sessions, want 1", len(got))
	}
	// Measured on the platform's clock, retention still works.
	if _, err := st.Apply(context.Background(), cache.Snapshot{Complete: true, ServerNow: now.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Sessions(context.Background()); len(got) != 0 {
		t.Fatalf("retention on the platform's clock 16 days on kept %d expired sessions", len(got))
	}
}

func TestMemoryOnly(t *testing.T) {
	st, _, err := cache.Open(context.Background(), cache.Options{Profile: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Path() != "" {
		t.Fatalf("path %q", st.Path())
	}
	if _, err := st.Apply(context.Background(), cache.Snapshot{Full: true, Complete: true, Sessions: sampleSessions(10, time.Now())}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Sessions(context.Background()); len(got) != 10 {
		t.Fatalf("memory cache holds %d", len(got))
	}
}

// A cache file deleted while the store is open is not created again by a
// connection the pool opens afterwards (ReleaseMemory takes both): it
// would come back 0644, and the app could no longer tell the user the
// file was deleted.
func TestDeletedFileIsNotCreatedAgain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	st, _ := open(t, dir, make([]byte, 32), nil)
	defer st.Close()
	if _, err := st.State(context.Background()); err != nil { // one connection open
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "p1.db*"))
	for _, f := range files {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.ReleaseMemory(context.Background()); err == nil {
		t.Log("ReleaseMemory found both connections open")
	}
	if fi, err := os.Stat(filepath.Join(dir, "p1.db")); err == nil {
		t.Fatalf("the deleted cache file is back, mode %v, %d bytes", fi.Mode().Perm(), fi.Size())
	}
}
