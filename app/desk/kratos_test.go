package desk_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/keychain"
	"sessiondesk/app/kratos/kratostest"
	"sessiondesk/app/profile"
	"sessiondesk/backend/platformtest"
)

// A workstation holds a platformd profile and a Kratos profile side by
// side: each signs in through its own provider, the Kratos one with its
// admin URL and an API key that only the keychain keeps, and a restarted
// app resumes the Kratos profile on Kratos.
func TestKratosProfileBesidePlatformd(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "demo"})
	k := kratostest.Start(t)
	ctx := context.Background()
	if _, err := k.CreateIdentity(ctx, "alice@example.test", "Alice Ng", "correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
	var tokens []kratostest.Session
	for range 2 {
		s, err := k.Login(ctx, "alice@example.test", "correct horse battery staple", kratostest.Device{UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", IP: "203.0.113.9"})
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, s)
	}

	e := newEnv(t)
	d := e.Open(t)
	signIn(t, d, p, "admin@acme.test")

	// The form's checks, and an address that is Kratos' public API.
	_, err := d.SignIn(ctx, desk.SignInRequest{Provider: profile.ProviderKratos, ServerURL: k.AdminURL})
	if codeOf(err) != domain.KindInvalid || err.(*desk.Error).Field != "email" {
		t.Fatalf("no e-mail: %v", err)
	}
	_, err = d.SignIn(ctx, desk.SignInRequest{Provider: profile.ProviderKratos, ServerURL: k.PublicURL, Email: "sec@example.test"})
	if err == nil || err.(*desk.Error).Field != "server" || !strings.Contains(err.Error(), "admin") {
		t.Fatalf("public URL: %v", err)
	}
	_, err = d.SignIn(ctx, desk.SignInRequest{Provider: "keycloak", ServerURL: k.AdminURL, Email: "sec@example.test"})
	if codeOf(err) != domain.KindInvalid {
		t.Fatalf("unknown provider: %v", err)
	}

	const apiKey = "kratos-proxy-key-5e1f0c"
	st, err := d.SignIn(ctx, desk.SignInRequest{Provider: profile.ProviderKratos, ServerURL: k.AdminURL + "/", Email: "Sec@Example.test", APIKey: apiKey})
	if err != nil {
		t.Fatalf("Kratos sign-in: %v", err)
	}
	t.Cleanup(func() { keychain.OS().DeleteProfile(st.Profile.ID) })
	if !st.SignedIn || st.Profile.Provider != profile.ProviderKratos || st.Capabilities == nil || st.Capabilities.RevokeDeviceTrust ||
		st.Capabilities.Audit != domain.AuditWorkstation || st.Me.User.Email != "sec@example.test" {
		t.Fatalf("state = %+v (capabilities %+v)", st, st.Capabilities)
	}
	ps, err := d.Profiles()
	if err != nil || len(ps) != 2 {
		t.Fatalf("profiles: %+v %v", ps, err)
	}
	kinds := map[string]int{}
	for _, q := range ps {
		kinds[q.Provider]++
	}
	if kinds[profile.ProviderKratos] != 1 || kinds[profile.ProviderPlatformd] != 1 {
		t.Fatalf("profiles by kind: %v", kinds)
	}
	if tok, err := keychain.OS().Token(st.Profile.ID); err != nil || !strings.Contains(tok, apiKey) {
		t.Fatalf("keychain holds %q, %v", tok, err)
	}

	syncNow(t, d)
	page, err := ws(t, d).ListSessions(desk.SessionQuery{Status: "all", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 2 || page.Items[0].User.Email != "alice@example.test" || page.Items[0].IP != "203.0.113.9" || page.Items[0].Client != "Firefox 133 on Linux" {
		t.Fatalf("Kratos sessions in the app: %+v", page)
	}
	if _, err := ws(t, d).Terminate(ctx, tokens[0].ID, "test"); err != nil {
		t.Fatal(err)
	}
	if ok, err := k.Whoami(ctx, tokens[0].Token); err != nil || ok {
		t.Fatalf("ended session's token: accepted=%v err=%v", ok, err)
	}
	if _, err := ws(t, d).RevokeTrust(ctx, "kd-0", ""); codeOf(err) != domain.KindInvalid {
		t.Fatalf("revoke trust on Kratos: %v", err)
	}

	// Terminate all without keeping one's own: an admin key is no session,
	// so the workspace stays open. Kratos ends them one by one, and the
	// progress the dialog shows starts at none of the total and reaches it.
	var seen [][2]int
	if res, err := ws(t, d).TerminateAll(ctx, false, "sweep", func(done, total int) { seen = append(seen, [2]int{done, total}) }); err != nil || res.Terminated != 1 {
		t.Fatalf("terminate all: %+v %v", res, err)
	}
	if len(seen) != 2 || seen[0] != [2]int{0, 1} || seen[1] != [2]int{1, 1} {
		t.Fatalf("terminate all progress: %v", seen)
	}
	if ok, _ := k.Whoami(ctx, tokens[1].Token); ok {
		t.Fatal("a session survived Terminate all")
	}
	if !d.State().SignedIn {
		t.Fatal("Terminate all signed the Kratos profile out")
	}

	// The API key is in the keychain only.
	_ = filepath.WalkDir(e.Dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), apiKey) {
			t.Errorf("%s holds the API key", path)
		}
		return nil
	})

	// A restarted app resumes the last profile, on Kratos.
	d.Close()
	d2 := e.Open(t)
	if err := d2.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	st2 := d2.State()
	if !st2.SignedIn || st2.Profile.Provider != profile.ProviderKratos || st2.Capabilities.Updates != domain.UpdatesPolling {
		t.Fatalf("resumed state = %+v", st2)
	}
}
