package platformd_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// TestSignInOverHTTPSWithOrgCA runs the real platform over HTTPS on
// loopback with a certificate from a test CA (an organization's internal
// CA, unknown to the system): the real client signs in when given the CA
// file, and without it fails at once with a certificate error that says
// what to do, not "offline".
func TestSignInOverHTTPSWithOrgCA(t *testing.T) {
	ca := platformtest.NewCA(t, "Acme Internal CA")
	p := platformtest.Start(t, platformtest.Options{TLS: ca.ServerTLS(t)})
	if !strings.HasPrefix(p.URL(), "https://127.0.0.1:") {
		t.Fatalf("platform URL %s", p.URL())
	}
	login := api.LoginRequest{Org: "acme", Email: "admin@acme.test", Password: platformtest.Password}
	ctx := context.Background()

	c, err := platformd.New(p.URL(), httpx.Options{CAFile: ca.CertFile})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Login(ctx, login)
	if err != nil {
		t.Fatalf("sign-in with the CA file: %v", err)
	}
	me, err := c.WithToken(resp.Token).Me(ctx)
	if err != nil || me.User.Email != "admin@acme.test" {
		t.Fatalf("me over HTTPS: %+v %v", me, err)
	}

	// Without the CA file: the system's store does not know the test CA.
	bare, err := platformd.New(p.URL(), httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = bare.Login(ctx, login)
	var ce *platformd.CertificateError
	if err == nil || !domain.IsCertificate(err) || domain.IsUnreachable(err) {
		t.Fatalf("sign-in without the CA file: %v (want a certificate error, not offline)", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a refused certificate was retried for %v", took)
	}
	if msg := desk.UserError(err).Message; !errors.As(err, &ce) || !strings.Contains(msg, "authority this computer does not trust") || !strings.Contains(msg, "CA file") {
		t.Errorf("message %q does not say what to do", msg)
	}

	// A CA that did not sign the platform's certificate does not help.
	other := platformtest.NewCA(t, "Some Other CA")
	wrong, err := platformd.New(p.URL(), httpx.Options{CAFile: other.CertFile})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Login(ctx, login); !domain.IsCertificate(err) {
		t.Errorf("sign-in trusting another CA: %v", err)
	}

	// A file that is not a CA certificate is refused when the client is made.
	junk := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(junk, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{junk, filepath.Join(t.TempDir(), "missing.pem")} {
		_, err := platformd.New(p.URL(), httpx.Options{CAFile: f})
		if domain.KindOf(err) != api.CodeInvalidArgument || !strings.Contains(err.Error(), f) {
			t.Errorf("CA file %s: %v", f, err)
		}
	}
}

// A CA file that is not a regular file is refused at once with a clear
// error: a FIFO (whose reader would wait for a writer forever) and
// /dev/zero (whose stat says size 0 while a read never ends) passed the old
// stat-then-read-whole check. The check looks at the opened file, so a
// path swapped between a check and the read cannot slip one through, and
// the read is bounded in any case.
func TestCAFileMustBeARegularFileOfBoundedSize(t *testing.T) {
	dir := t.TempDir()
	// Without a writer, opening a FIFO for reading blocks; with one that
	// never writes, opening works and the read waits forever.
	fifo, held := filepath.Join(dir, "ca.fifo"), filepath.Join(dir, "held.fifo")
	for _, f := range []string{fifo, held} {
		if err := syscall.Mkfifo(f, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w, err := os.OpenFile(held, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, make([]byte, httpx.MaxCAFileBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{fifo, "is not a regular file"},
		{held, "is not a regular file"},
		{"/dev/zero", "is not a regular file"},
		{dir, "is not a regular file"},
		{big, "is too large"},
	} {
		done := make(chan error, 1)
		go func() {
			_, err := platformd.New("https://platform.invalid", httpx.Options{CAFile: tc.path})
			done <- err
		}()
		select {
		case err := <-done:
			if domain.KindOf(err) != domain.KindInvalid || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("CA file %s: %v, want invalid_argument saying it %s", tc.path, err, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("CA file %s: no answer within 5 s (the read hangs)", tc.path)
		}
	}
}
