package desk_test

import (
	"context"
	"errors"
	"testing"

	"sessiondesk/app/desk"
	"sessiondesk/backend/platformtest"
)

// TestSignInWithOrgCA signs in to a platform served over HTTPS with a
// certificate from an organization's own CA: without the CA file the form
// learns the certificate is untrusted (on the CA file field, not "offline");
// with it the sign-in works, the profile remembers the file, and a later
// start resumes the account over HTTPS with it.
func TestSignInWithOrgCA(t *testing.T) {
	ca := platformtest.NewCA(t, "Acme Internal CA")
	p := platformtest.Start(t, platformtest.Options{TLS: ca.ServerTLS(t)})
	e := newEnv(t)
	d := e.Open(t)
	ctx := context.Background()
	req := desk.SignInRequest{ServerURL: p.URL(), Org: "acme", Email: "admin@acme.test", Password: platformtest.Password}

	_, err := d.SignIn(ctx, req)
	var de *desk.Error
	if !errors.As(err, &de) || de.Code != desk.CodeUntrustedCertificate || de.Field != "caFile" {
		t.Fatalf("sign-in without the CA file: %#v", err)
	}
	req.CAFile = ca.CertFile
	st, err := d.SignIn(ctx, req)
	if err != nil || !st.SignedIn {
		t.Fatalf("sign-in with the CA file: %v", err)
	}
	profiles, err := d.Profiles()
	if err != nil || len(profiles) != 1 || profiles[0].CAFile != ca.CertFile {
		t.Fatalf("profiles %+v %v", profiles, err)
	}
	d.Close()

	again := e.Open(t)
	ok, err := again.ResumeProfile(ctx, profiles[0])
	if err != nil || !ok {
		t.Fatalf("resume over HTTPS: %v %v", ok, err)
	}
	if st := again.State(); !st.SignedIn || st.Me == nil || st.Me.User.Email != "admin@acme.test" {
		t.Fatalf("resumed state %+v", st)
	}
}
