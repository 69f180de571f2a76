package platformtest_test

import (
	"net/http"
	"strings"
	"testing"

	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

func TestStopRestartKeepsData(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{})
	if strings.HasSuffix(p.URL(), "/") || !strings.HasPrefix(p.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q", p.URL())
	}
	lr := p.Login(t, "acme", "admin@acme.test")
	me := func() (int, error) {
		req, _ := http.NewRequest("GET", p.URL()+api.BasePath+"/me", nil)
		req.Header.Set("Authorization", "Bearer "+lr.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	if code, err := me(); err != nil || code != 200 {
		t.Fatalf("me: %d %v", code, err)
	}
	p.Stop()
	if _, err := me(); err == nil {
		t.Fatal("request succeeded while stopped")
	}
	p.Restart()
	if code, err := me(); err != nil || code != 200 {
		t.Fatalf("me after restart: %d %v (token must survive)", code, err)
	}
	// The MFA user signs in through the TOTP step.
	if l := p.Login(t, "acme", "mfa@acme.test"); !l.Session.MFA {
		t.Errorf("mfa login without mfa: %+v", l.Session)
	}
}

func TestEmptySeed(t *testing.T) {
	p := platformtest.Start(t, platformtest.Options{Seed: "none"})
	empty, err := p.Store().IsEmpty(t.Context())
	if err != nil || !empty {
		t.Fatalf("empty = %v, %v", empty, err)
	}
}
