package profile_test

import (
	"os"
	"path/filepath"
	"testing"

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
