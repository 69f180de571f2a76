package kratostest_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"sessiondesk/app/kratos/kratostest"
)

// The harness itself: a person signs in through the native flow, the token
// works, and Stop leaves no process behind.
func TestStartLoginWhoamiStop(t *testing.T) {
	ctx := context.Background()
	k := kratostest.Start(t)
	id, err := k.CreateIdentity(ctx, "ada@example.com", "Ada Lovelace", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	s, err := k.Login(ctx, "ada@example.com", "correct horse battery staple", kratostest.Device{UserAgent: "kratostest"})
	if err != nil {
		t.Fatal(err)
	}
	if s.IdentityID != id || s.Token == "" || s.ID == "" {
		t.Fatalf("login gave %+v, want a token and a session of identity %s", s, id)
	}
	if ok, err := k.Whoami(ctx, s.Token); err != nil || !ok {
		t.Fatalf("whoami with a fresh token = %v, %v; want accepted", ok, err)
	}
	if ok, err := k.Whoami(ctx, "not-a-token"); err != nil || ok {
		t.Fatalf("whoami with a made-up token = %v, %v; want refused (401)", ok, err)
	}
	if _, err := k.Login(ctx, "ada@example.com", "wrong password", kratostest.Device{}); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	for _, f := range []string{"kratos.yml", "kratos.db", "kratos.log"} {
		st, err := os.Stat(filepath.Join(k.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 && f != "kratos.db" {
			t.Errorf("%s has mode %v; it holds secrets or logs, want 0600", f, st.Mode().Perm())
		}
	}
	pid := k.Pid()
	if err := k.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
		t.Fatalf("kratos (pid %d) still exists after Stop: %v", pid, err)
	}
	if _, err := k.Whoami(ctx, s.Token); err == nil {
		t.Fatal("whoami answered after Stop")
	}
}
