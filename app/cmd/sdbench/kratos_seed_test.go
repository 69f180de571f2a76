package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	admin "sessiondesk/app/kratos"
	"sessiondesk/app/kratos/kratostest"
)

// The Kratos seed writes Kratos' tables behind its back; these check that
// what it wrote is Kratos' own data (Kratos lists every session, with its
// person and device, and signs a seeded person in through the login flow)
// and that the created_at ties are real: a walk with Kratos' own page
// tokens misses sessions at small pages, the app's client misses none, and
// without ties nothing is missed — so the misses are the ties'.
func TestKratosSeedIsKratosOwnData(t *testing.T) {
	bin := kratostest.Binary(t)
	const sessions, pageSize = 300, 7
	for _, ties := range []bool{true, false} {
		t.Run(map[bool]string{true: "ties", false: "no ties"}[ties], func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			srv, got, err := seedKratos(ctx, bin, filepath.Join(t.TempDir(), "kratos"), kratosSeed{sessions: sessions, identities: 20, ties: ties})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Stop() })
			if got.sessions != sessions || ties != (got.tied > 0) {
				t.Fatalf("seeded %d sessions, %d tied; want %d, tied only with ties", got.sessions, got.tied, sessions)
			}
			checkAppWalk(ctx, t, srv.AdminURL, sessions, pageSize)
			own, err := ownTokenWalk(ctx, srv.AdminURL, pageSize)
			if err != nil {
				t.Fatal(err)
			}
			switch missed := sessions - own; {
			case ties && missed == 0:
				t.Errorf("with %d tied sessions, a walk with Kratos' own tokens in pages of %d missed none: the seed's ties do not reach Kratos' page boundaries", got.tied, pageSize)
			case !ties && missed != 0:
				t.Errorf("without ties, a walk with Kratos' own tokens missed %d sessions", missed)
			}
			if _, err := srv.Login(ctx, "user000003@bigcorp.test", kratosPassword, kratostest.Device{UserAgent: "sdbench-test"}); err != nil {
				t.Errorf("a seeded person cannot sign in through Kratos' login flow: %v", err)
			}
		})
	}
}

// checkAppWalk walks the sessions with the app's Kratos client and wants
// every one of them once, each with its person and a device.
func checkAppWalk(ctx context.Context, t *testing.T, adminURL string, sessions, pageSize int) {
	t.Helper()
	c, err := admin.New(adminURL, admin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	token := ""
	for {
		p, err := c.ListSessions(ctx, admin.ListOptions{PageToken: token, PageSize: pageSize})
		if err != nil {
			t.Fatal(err)
		}
		if p.MayHaveSkipped || p.MayRepeat {
			t.Fatalf("page after %q: may have skipped %t, may repeat %t", token, p.MayHaveSkipped, p.MayRepeat)
		}
		for _, s := range p.Sessions {
			if seen[s.ID] {
				t.Fatalf("session %s listed twice", s.ID)
			}
			seen[s.ID] = true
			if s.Identity.Email == "" || s.Identity.Name == "" || len(s.Devices) != 1 || s.Devices[0].UserAgent == "" || !s.Active {
				t.Fatalf("session %s lacks what was seeded: %+v", s.ID, s)
			}
		}
		if p.NextPageToken == "" {
			break
		}
		token = p.NextPageToken
	}
	if len(seen) != sessions {
		t.Fatalf("the app's client listed %d sessions, %d were seeded", len(seen), sessions)
	}
}
