package desk_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"sessiondesk/app/desk"
	"sessiondesk/app/keychain"
	"sessiondesk/app/kratos/kratostest"
	"sessiondesk/app/profile"
	"sessiondesk/app/provider"
	"sessiondesk/app/syncer"
)

// A sync status names the identity system the profile is on: a Kratos
// profile whose Kratos went away says "Ory Kratos cannot be reached", not
// "The platform", and its polling note says the interval the syncs really
// run at, not a fixed 30 s.
func TestKratosSyncStatusNamesKratosAndTheRealInterval(t *testing.T) {
	k := kratostest.Start(t)
	ctx := context.Background()
	e := newEnv(t)
	e.Config.SyncInterval = 45 * time.Second
	d := e.Open(t)
	st, err := d.SignIn(ctx, desk.SignInRequest{Provider: profile.ProviderKratos, ServerURL: k.AdminURL, Email: "sec@example.test"})
	if err != nil {
		t.Fatalf("Kratos sign-in: %v", err)
	}
	t.Cleanup(func() { keychain.OS().DeleteProfile(st.Profile.ID) })
	const note = "Ory Kratos has no event stream: checking for new sessions every 45 s, and reading every session every 5 min."
	eventually(t, 10*time.Second, "the polling note", func() bool { return ws(t, d).SyncStatus().LiveNote == note })

	if err := k.Stop(); err != nil {
		t.Fatal(err)
	}
	// The workspace's SyncNow reports a failed sync in the status only.
	if s, _ := ws(t, d).SyncNow(ctx); s.Online || s.LastError != "Ory Kratos cannot be reached." {
		t.Fatalf("sync with Kratos stopped: online %v, last error %q", s.Online, s.LastError)
	}
	// An action says so too, naming Kratos, not "the platform".
	_, err = ws(t, d).Terminate(ctx, "00000000-0000-0000-0000-000000000001", "")
	const want = "Ory Kratos cannot be reached, so nothing was changed. Try again when you are back online."
	if ue := desk.UserError(err); ue == nil || ue.Message != want {
		t.Fatalf("terminate with Kratos stopped: %v, want %q", err, want)
	}
}

// The same status on the platform says "the platform", and every note
// and wait in the unit a person reads.
func TestSyncWordsOfThePlatform(t *testing.T) {
	w := desk.SyncWords(profile.ProviderPlatformd)
	for _, tc := range []struct{ got, want string }{
		{w.Problem(syncer.Unreachable, 0, nil), "The platform cannot be reached."},
		{w.Problem(syncer.Busy, 90*time.Second, nil), "Platform busy — retrying in 2 min"},
		{w.Problem(syncer.Busy, 200*time.Millisecond, nil), "Platform busy — retrying in 1 s"},
		{w.Polling(provider.PollNoStream, 2*time.Minute), "This platform does not push changes; checking for changes every 2 min."},
		{w.Polling(provider.PollHeldBack, 10*time.Second), "Live updates do not get through (a proxy may hold them back); checking for changes every 10 s."},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if k := desk.SyncWords(profile.ProviderKratos).Problem(syncer.BrokeOff, 0, nil); !strings.Contains(k, "to Ory Kratos broke off") {
		t.Errorf("Kratos, broken answer: %q", k)
	}
}
