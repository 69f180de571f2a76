package server_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
	"sessiondesk/backend/server"
)

// replicaClients starts two replicas on one PostgreSQL database and returns
// an anonymous client for each, addressing that replica alone.
func replicaClients(t *testing.T, opts platformtest.Options) (*platformtest.Platform, [2]*client) {
	t.Helper()
	opts.Replicas = 2
	p := platformtest.Start(t, opts)
	var cs [2]*client
	for i := range cs {
		srv := httptest.NewServer(p.Replica(i))
		t.Cleanup(srv.Close)
		cs[i] = &client{t: t, base: srv.URL}
	}
	return p, cs
}

// Five failures spread over two replicas throttle the account on both.
func TestReplicasShareTheLoginThrottle(t *testing.T) {
	_, rs := replicaClients(t, platformtest.Options{
		LoginThrottle: &server.ThrottleConfig{AccountLimit: 5, IPLimit: 1000, Window: time.Minute}})
	bad := api.LoginRequest{Org: "acme", Email: "admin@acme.test", Password: "guess"}
	for i := range 5 {
		if res := login(rs[i%2], bad); res.status != 401 {
			t.Fatalf("failure %d on replica %d: %d %s", i, i%2, res.status, res.body)
		}
	}
	good := bad
	good.Password = platformtest.Password
	for i, r := range rs {
		if res := login(r, good); res.status != 429 {
			t.Errorf("replica %d after 5 failures over both: %d %s, want 429", i, res.status, res.body)
		}
	}
}

// A session ended through one replica is refused by the other on the very
// next request: authentication reads the database every time.
func TestReplicasRefuseATerminatedSessionAtOnce(t *testing.T) {
	_, rs := replicaClients(t, platformtest.Options{})
	var admin, member api.LoginResponse
	login(rs[0], api.LoginRequest{Org: "acme", Email: "admin@acme.test", Password: platformtest.Password}).decode(t, 200, &admin)
	login(rs[1], api.LoginRequest{Org: "acme", Email: "member@acme.test", Password: platformtest.Password}).decode(t, 200, &member)
	on := func(i int, token string) *client { return &client{t: t, base: rs[i].base, token: token} }
	for i := range rs {
		on(i, member.Token).do("GET", api.BasePath+"/me", nil).decode(t, 200, nil)
	}
	on(0, admin.Token).do("POST", api.BasePath+"/sessions/"+member.Session.ID+"/terminate", map[string]string{"reason": "test"}).decode(t, 200, nil)
	if res := on(1, member.Token).do("GET", api.BasePath+"/me", nil); res.status != 401 {
		t.Fatalf("replica 1 right after the end on replica 0: %d %s", res.status, res.body)
	}
	// And the other way round, with the caller's own logout.
	on(1, admin.Token).do("POST", api.BasePath+"/auth/logout", nil).decode(t, 204, nil)
	if res := on(0, admin.Token).do("GET", api.BasePath+"/me", nil); res.status != 401 {
		t.Fatalf("replica 0 right after logout on replica 1: %d %s", res.status, res.body)
	}
}
