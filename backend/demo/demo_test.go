package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/demo"
)

func TestStartSimulateClose(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "demo.db")
	p, err := demo.Start(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(p.URL() + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	for range 2 {
		if err := p.SimulateNewDeviceSignIn(ctx); err != nil {
			t.Fatal(err)
		}
	}
	closeCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := p.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("db file: %v %v", fi, err)
	}
	// A second start reuses the seeded database (no second seed).
	p2, err := demo.Start(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
}

// A fresh demo platform already has an audit history, made of real audited
// actions by admin@acme.test, and none of it touches the named demo users;
// a restart does not repeat it.
func TestFreshDemoHasAuditHistory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "demo.db")
	for run := range 2 {
		p, err := demo.Start(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		token := login(t, p.URL(), "admin@acme.test")
		var audit api.AuditList
		get(t, p.URL()+api.BasePath+"/audit", token, &audit)
		if len(audit.Items) != 3 {
			t.Fatalf("run %d: %d audit events, want 3: %+v", run, len(audit.Items), audit.Items)
		}
		actions := map[string]int{}
		for _, e := range audit.Items {
			actions[e.Action]++
			if e.Actor.Email != "admin@acme.test" || e.Reason == "" || e.TargetID == nil {
				t.Fatalf("event %+v: want admin as actor, a reason and a target", e)
			}
		}
		if actions[api.ActionSessionTerminate] != 2 || actions[api.ActionDeviceUntrust] != 1 {
			t.Fatalf("actions %v", actions)
		}
		var sessions api.SessionList
		get(t, p.URL()+api.BasePath+"/sessions?status=all&limit=1000", token, &sessions)
		byID := map[string]api.Session{}
		for _, s := range sessions.Items {
			byID[s.ID] = s
		}
		for _, e := range audit.Items {
			if e.Action != api.ActionSessionTerminate {
				continue
			}
			s, ok := byID[*e.TargetID]
			if !ok || s.Status != api.StatusTerminated {
				t.Fatalf("audited target %s is not a terminated session: %+v", *e.TargetID, s)
			}
			switch s.User.Email {
			case "admin@acme.test", "auditor@acme.test", "member@acme.test", "mfa@acme.test":
				t.Fatalf("history ended a named demo user's session: %+v", s)
			}
		}
		closeCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := p.Close(closeCtx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
}

func login(t *testing.T, base, email string) string {
	t.Helper()
	body, _ := json.Marshal(api.LoginRequest{Org: "acme", Email: email, Password: "demo-password"})
	res, err := http.Post(base+api.BasePath+"/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out api.LoginResponse
	if res.StatusCode != 200 || json.NewDecoder(res.Body).Decode(&out) != nil {
		t.Fatalf("login %s: %s", email, res.Status)
	}
	return out.Token
}

func get(t *testing.T, url, token string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}
