package kratos_test

// These tests run the provider against a real Ory Kratos v1.3.1
// (app/kratos/kratostest), through the app's real syncer and sealed cache:
// identities through Kratos' admin API, sessions through its native login
// flow, tokens checked with /sessions/whoami.

import (
	"context"
	"crypto/rand"
	"slices"
	"sync"
	"testing"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/app/kratos/kratostest"
	"sessiondesk/app/provider"
	"sessiondesk/app/provider/httpx"
	kratosprov "sessiondesk/app/provider/kratos"
	"sessiondesk/app/syncer"
)

const password = "correct horse battery staple"

var (
	firefoxWindows = kratostest.Device{UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
		IP: "203.0.113.7", City: "Berlin", Country: "DE"}
	chromeMac = kratostest.Device{UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		IP: "198.51.100.20"}
	edgeWindows = kratostest.Device{UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
		IP: "192.0.2.44", City: "Lyon", Country: "FR"}
)

// notes records the new-device notifications the syncer raises.
type notes struct {
	mu  sync.Mutex
	got []domain.Device
}

func (n *notes) NewDevice(_ context.Context, d domain.Device, _ string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, d)
	return nil
}

func (n *notes) NewDevices(_ context.Context, ds []domain.Device) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, ds...)
	return nil
}

func (n *notes) all() []domain.Device {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}

// rig is one profile's syncer over the provider and a sealed cache file.
type rig struct {
	store    *cache.Store
	sessions *index.Table[domain.Session]
	devices  *index.Table[domain.Device]
	audit    *index.Table[domain.AuditEvent]
	sync     *syncer.Syncer
}

func newRig(t *testing.T, dir string, key []byte, src provider.Provider, n syncer.Notifier) *rig {
	t.Helper()
	st, _, err := cache.Open(context.Background(), cache.Options{Dir: dir, Profile: "kratos", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{store: st, sessions: index.NewSessions(), devices: index.NewDevices(), audit: syncer.NewAuditTable()}
	r.sync = syncer.New(syncer.Config{Source: src, Store: st, Sessions: r.sessions, Devices: r.devices,
		Audit: r.audit, Notifier: n, PageSize: 2, ServerNow: src.Now})
	if err := r.sync.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) session(t *testing.T, id string) domain.Session {
	t.Helper()
	s, ok := r.sessions.Get(id)
	if !ok {
		t.Fatalf("session %s is not in the app's list", id)
	}
	return s
}

func signIn(t *testing.T, k *kratostest.Server, email, name string, from ...kratostest.Device) []kratostest.Session {
	t.Helper()
	ctx := context.Background()
	if name != "" {
		if _, err := k.CreateIdentity(ctx, email, name, password); err != nil {
			t.Fatal(err)
		}
	}
	var out []kratostest.Session
	for _, dev := range from {
		s, err := k.Login(ctx, email, password, dev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func alive(t *testing.T, k *kratostest.Server, s kratostest.Session) bool {
	t.Helper()
	ok, err := k.Whoami(context.Background(), s.Token)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func connect(t *testing.T, k *kratostest.Server) provider.Provider {
	t.Helper()
	cn, err := kratosprov.Dial(k.AdminURL, kratosprov.Options{Staff: kratosprov.Staff{Email: "sec@example.test", Name: "Sam Security"},
		HTTP: httpx.Options{RetryMax: 1, RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 20 * time.Millisecond, CallTimeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cn.Close)
	in, err := cn.SignIn(context.Background(), provider.SignInRequest{Email: "sec@example.test"})
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	return cn.WithToken(in.Token)
}

// TestKratosProvider walks the whole life of a Kratos profile: list with
// people and places, a new session on the next poll with exactly one
// notification, end one, sign a person out everywhere, the workstation's
// audit log, and offline review after Kratos is gone.
func TestKratosProvider(t *testing.T) {
	k := kratostest.Start(t)
	ctx := context.Background()
	alice := signIn(t, k, "alice@example.test", "Alice Ng", firefoxWindows, chromeMac)
	bob := signIn(t, k, "bob@example.test", "Bob Stone", chromeMac)

	prov := connect(t, k)
	me, err := prov.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.User.Email != "sec@example.test" || !me.Has(domain.PermSessionsTerminateOrg) || !me.Has(domain.PermDevicesRevokeTrust) || me.SessionID != "" {
		t.Fatalf("me = %+v: want the profile's staff member with every permission and no own session", me)
	}
	if c := prov.Capabilities(); c.RevokeDeviceTrust || c.Audit != domain.AuditWorkstation || c.Updates != domain.UpdatesPolling || !c.EndAll {
		t.Fatalf("capabilities = %+v", c)
	}

	dir, key := t.TempDir(), make([]byte, 32)
	rand.Read(key)
	n := &notes{}
	r := newRig(t, dir, key, prov, n)
	if _, err := r.sync.SyncFull(ctx); err != nil { // what Watch asks for first
		t.Fatalf("full sync: %v", err)
	}

	// People and places.
	s := r.session(t, alice[0].ID)
	if s.User.Email != "alice@example.test" || s.User.Name != "Alice Ng" || s.User.ID != alice[0].IdentityID {
		t.Errorf("person = %+v", s.User)
	}
	if s.IP != "203.0.113.7" || s.Location != "Berlin, DE" || s.Client != "Firefox 133 on Windows" || s.Status != domain.StatusActive || s.MFA {
		t.Errorf("alice's Firefox session = ip %q location %q client %q status %q mfa %v", s.IP, s.Location, s.Client, s.Status, s.MFA)
	}
	if s.CreatedAt.IsZero() || s.ExpiresAt.Before(s.CreatedAt) {
		t.Errorf("times: created %v expires %v", s.CreatedAt, s.ExpiresAt)
	}
	if got := r.session(t, bob[0].ID); got.Client != "Chrome 131 on macOS" || got.IP != "198.51.100.20" || got.Location != "" {
		t.Errorf("bob's session = client %q ip %q location %q", got.Client, got.IP, got.Location)
	}
	if got := r.sessions.Len(); got != 3 {
		t.Errorf("%d sessions in the list, want 3", got)
	}
	// Devices: a person's distinct browser + OS.
	if got := r.devices.Len(); got != 3 {
		t.Fatalf("%d devices, want 3 (alice: Firefox on Windows, Chrome on macOS; bob: Chrome on macOS)", got)
	}
	for d := range r.devices.All() {
		if d.Trusted || d.Name == "" || d.LastIP == "" || d.FirstSeenAt.IsZero() {
			t.Errorf("device %+v", d)
		}
	}
	if got := len(n.all()); got != 0 {
		t.Errorf("the first sync announced %d devices; it is the baseline", got)
	}

	// A new session appears on the next poll (a delta) and raises exactly
	// one notification: bob's new Edge; alice's second Firefox is a device
	// she has.
	bobEdge := signIn(t, k, "bob@example.test", "", edgeWindows)[0]
	alice = append(alice, signIn(t, k, "alice@example.test", "", firefoxWindows)...)
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	r.session(t, bobEdge.ID)
	r.session(t, alice[2].ID)
	got := n.all()
	if len(got) != 1 || got[0].User.Email != "bob@example.test" || got[0].Name != "Edge on Windows" || got[0].LastIP != "192.0.2.44" {
		t.Fatalf("notifications after the poll = %+v, want one for bob's Edge on Windows", got)
	}
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.sync.SyncFull(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(n.all()); got != 1 {
		t.Fatalf("%d notifications after two more syncs, want still 1", got)
	}

	// End one: its token is refused, the others are not.
	ended, err := prov.EndSession(ctx, alice[1].ID, "lost laptop")
	if err != nil {
		t.Fatal(err)
	}
	if ended.Status != domain.StatusTerminated || ended.TerminatedAt == nil || ended.TerminatedBy == nil || ended.TerminatedBy.Email != "sec@example.test" {
		t.Errorf("ended session = %+v", ended)
	}
	if alive(t, k, alice[1]) {
		t.Fatal("the ended session's token still passes /sessions/whoami")
	}
	if !alive(t, k, alice[0]) || !alive(t, k, bob[0]) {
		t.Fatal("ending one session ended others")
	}
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	if st := r.session(t, alice[1].ID).Status; st != domain.StatusTerminated {
		t.Errorf("after the poll the ended session reads %q", st)
	}

	// Sign alice out everywhere: Kratos deletes her sessions; the app keeps
	// them as terminated.
	res, err := prov.EndPersonSessions(ctx, alice[0].IdentityID, true, "incident 42")
	if err != nil {
		t.Fatal(err)
	}
	if res.Terminated != 2 {
		t.Errorf("signed alice out of %d sessions, want 2 (one was ended already)", res.Terminated)
	}
	for _, a := range alice {
		if alive(t, k, a) {
			t.Fatalf("alice's session %s still passes whoami", a.ID)
		}
	}
	if !alive(t, k, bob[0]) || !alive(t, k, bobEdge) {
		t.Fatal("signing alice out ended bob's sessions")
	}
	if _, err := r.sync.SyncNow(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range alice {
		if st := r.session(t, a.ID).Status; st != domain.StatusTerminated {
			t.Errorf("alice's session %s reads %q after the poll", a.ID, st)
		}
	}

	// The workstation's own audit log, in the sealed cache.
	events, err := r.store.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]domain.AuditEvent{}
	for _, e := range events {
		if e.Actor.Email != "sec@example.test" {
			t.Errorf("event %s by %+v", e.Action, e.Actor)
		}
		actions[e.Action] = e
	}
	if e := actions[domain.ActionSessionTerminate]; e.Reason != "lost laptop" || e.TargetID == nil || *e.TargetID != alice[1].ID {
		t.Errorf("session.terminate event = %+v", e)
	}
	if e := actions[domain.ActionUserSessionsTerminate]; e.Reason != "incident 42" || e.Count != 2 || len(e.TargetIDs) != 2 {
		t.Errorf("user.sessions.terminate event = %+v", e)
	}
	if len(events) != 2 {
		t.Errorf("%d audit events, want 2", len(events))
	}

	// Offline review: Kratos is gone; a new run of the app opens the cache.
	if err := k.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.sync.SyncNow(ctx); !domain.IsUnreachable(err) {
		t.Fatalf("sync with Kratos stopped: %v, want unreachable", err)
	}
	if st := r.sync.Status(); st.Online {
		t.Errorf("status online with Kratos stopped: %+v", st)
	}
	r.store.Close()
	again := newRig(t, dir, key, connect2(t, k.AdminURL), n)
	if got := again.sessions.Len(); got != 5 {
		t.Errorf("offline: %d cached sessions, want 5", got)
	}
	if s := again.session(t, bobEdge.ID); s.Client != "Edge 131 on Windows" || s.Location != "Lyon, FR" || s.User.Name != "Bob Stone" {
		t.Errorf("offline: bob's Edge session = %+v", s)
	}
	if got := again.devices.Len(); got != 4 {
		t.Errorf("offline: %d cached devices, want 4", got)
	}
	if got := again.audit.Len(); got != 2 {
		t.Errorf("offline: %d cached audit events, want 2", got)
	}
}

// connect2 is a provider for an admin URL without signing in (Kratos may be
// stopped).
func connect2(t *testing.T, adminURL string) provider.Provider {
	t.Helper()
	cn, err := kratosprov.Dial(adminURL, kratosprov.Options{Staff: kratosprov.Staff{Email: "sec@example.test"},
		HTTP: httpx.Options{RetryMax: -1, CallTimeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cn.Close)
	return cn.WithToken("kratos-admin:")
}

// TestKratosProviderEndsAll ends every active session with bounded
// concurrency, reporting progress, and ends nothing more when run again.
func TestKratosProviderEndsAll(t *testing.T) {
	k := kratostest.Start(t)
	ctx := context.Background()
	var all []kratostest.Session
	for i, who := range []string{"carol", "dan", "erin"} {
		from := make([]kratostest.Device, 4+i)
		for j := range from {
			from[j] = firefoxWindows
		}
		all = append(all, signIn(t, k, who+"@example.test", who, from...)...)
	}
	prov := connect(t, k)
	// One ended before: not counted, not ended twice.
	if _, err := prov.EndSession(ctx, all[0].ID, ""); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []domain.Progress
	res, err := prov.EndAllSessions(ctx, true, "sweep", func(p domain.Progress) {
		mu.Lock()
		seen = append(seen, p)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	want := len(all) - 1
	if res.Terminated != want {
		t.Errorf("ended %d, want %d", res.Terminated, want)
	}
	if len(seen) != want+1 || seen[0] != (domain.Progress{Total: want}) || seen[len(seen)-1] != (domain.Progress{Done: want, Total: want}) {
		t.Errorf("progress = %+v", seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Done != seen[i-1].Done+1 {
			t.Fatalf("progress not one by one: %+v", seen)
		}
	}
	for _, s := range all {
		if alive(t, k, s) {
			t.Fatalf("session %s survived 'end all'", s.ID)
		}
	}
	// Resumable: running it again ends what is left — nothing.
	res, err = prov.EndAllSessions(ctx, true, "sweep again", nil)
	if err != nil || res.Terminated != 0 {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	page, err := prov.Audit(ctx, domain.PageRequest{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Items[0].Action != domain.ActionSessionsTerminateAll || page.Items[0].Count != want || len(page.Items[0].TargetIDs) != want {
		t.Errorf("audit = %+v, want the end-all event (newest) and the one end; none for the run that ended nothing", page.Items)
	}
}

// TestKratosProviderRefusesDeviceTrust: Kratos has no device trust.
func TestKratosProviderRefusesDeviceTrust(t *testing.T) {
	k := kratostest.Start(t)
	_, err := connect(t, k).UntrustDevice(context.Background(), "kd-x", "")
	if domain.KindOf(err) != domain.KindInvalid {
		t.Fatalf("untrust: %v, want invalid_argument", err)
	}
}
