package desk_test

import (
	"testing"

	"sessiondesk/backend/platformtest"
)

// Started for a platform (-server), the app offers that platform: an
// account remembered on another platform is not resumed and the sign-in
// form starts with -server's address; an account remembered on that
// platform is resumed as usual. Two spellings of one address are one.
func TestServerFlagStartsOnThatPlatform(t *testing.T) {
	a := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	b := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	e := newEnv(t)
	d := e.Open(t)
	signIn(t, d, a, "admin@acme.test") // remembered, token kept, last used
	d.Close()

	e.Config.Server = " " + b.URL() + "/"
	d = e.Open(t)
	st := d.State()
	if st.SignedIn {
		t.Errorf("started for %s, resumed the account on %s", b.URL(), st.Profile.ServerURL)
	}
	if st.DefaultServer != b.URL() {
		t.Errorf("sign-in form starts with %q, want %q", st.DefaultServer, b.URL())
	}
	d.Close()

	e.Config.Server = a.URL()
	d = e.Open(t)
	if st := d.State(); !st.SignedIn || st.Profile.ServerURL != a.URL() || st.DefaultServer != a.URL() {
		t.Errorf("started for the remembered account's platform: signed in %v, default server %q", st.SignedIn, st.DefaultServer)
	}
}
