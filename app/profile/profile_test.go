package profile_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"sessiondesk/app/profile"
)

func TestSaveListLastAndMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg")
	s, err := profile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := profile.New("https://p.example/", "Acme", "Admin@Acme.test", false)
	b := profile.New("https://p.example", "acme", "auditor@acme.test", false)
	if a.ID != profile.New("https://p.example", "acme", "admin@acme.test", false).ID {
		t.Fatal("id must not depend on case or a trailing slash")
	}
	if profile.New("http://127.0.0.1:1", "acme", "x", true).ID != profile.New("http://127.0.0.1:2", "acme", "x", true).ID {
		t.Fatal("demo id must not depend on the port")
	}
	if err := s.Save(a); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(b); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(a); err != nil { // update, not duplicate
		t.Fatal(err)
	}
	list, _ := s.List()
	if len(list) != 2 || list[0].ID != a.ID {
		t.Fatalf("list = %+v", list)
	}
	last, ok, _ := s.Last()
	if !ok || last.ID != a.ID {
		t.Fatalf("last = %+v %v", last, ok)
	}
	s.ClearLast()
	if _, ok, _ := s.Last(); ok {
		t.Fatal("last after ClearLast")
	}
	fi, _ := os.Stat(s.Path())
	di, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Fatalf("modes %v %v", fi.Mode().Perm(), di.Mode().Perm())
	}
	// A damaged file costs a sign-in, not a crash.
	os.WriteFile(s.Path(), []byte("{not json"), 0o600)
	if list, err := s.List(); err != nil || len(list) != 0 {
		t.Fatalf("damaged file: %v %v", list, err)
	}
}

// The cache mark is per profile, survives a reopen of the file, and goes
// with ForgetCacheWritten or with the profile.
func TestCacheWrittenMark(t *testing.T) {
	s, err := profile.Open(filepath.Join(t.TempDir(), "cfg"))
	if err != nil {
		t.Fatal(err)
	}
	a := profile.New("https://p.example", "acme", "admin@acme.test", false)
	b := profile.New("https://p.example", "acme", "auditor@acme.test", false)
	for _, p := range []profile.Profile{a, b} {
		if err := s.Save(p); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	if err := s.MarkCacheWritten(a.ID, at); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkCacheWritten(b.ID, at); err != nil {
		t.Fatal(err)
	}
	s2, _ := profile.Open(filepath.Dir(s.Path()))
	if got, ok, err := s2.CacheWritten(a.ID); err != nil || !ok || !got.Equal(at) {
		t.Fatalf("mark read back: %v %v %v", got, ok, err)
	}
	if err := s2.ForgetCacheWritten(a.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s2.CacheWritten(a.ID); ok {
		t.Fatal("mark kept after ForgetCacheWritten")
	}
	if _, ok, _ := s2.CacheWritten(b.ID); !ok {
		t.Fatal("forgetting one profile's mark dropped another's")
	}
	if err := s2.Delete(b.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s2.CacheWritten(b.ID); ok {
		t.Fatal("mark kept after the profile was deleted")
	}
}
