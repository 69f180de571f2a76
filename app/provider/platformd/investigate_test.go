package platformd_test

import (
	"context"
	"errors"
	"testing"

	"sessiondesk/app/provider/platformd"
	"sessiondesk/backend/api"
	"sessiondesk/backend/platformtest"
)

// The v1.1 calls against a real platformd: sign a person out everywhere, end
// chosen sessions, read the audit log filtered.
func TestInvestigationCalls(t *testing.T) {
	ctx := context.Background()
	p := platformtest.Start(t, platformtest.Options{})
	admin := p.Login(t, "acme", "admin@acme.test")
	victim := p.Login(t, "acme", "auditor@acme.test")
	chosen := p.Login(t, "acme", "member@acme.test")
	c0, err := platformd.New(p.URL(), fastOptions(nil))
	if err != nil {
		t.Fatal(err)
	}
	c := c0.WithToken(admin.Token)

	n, err := c.TerminateUserSessions(ctx, victim.User.ID, true, "phished")
	if err != nil || n.Terminated < 1 {
		t.Fatalf("sign out everywhere = %+v %v", n, err)
	}
	if _, err := c0.WithToken(victim.Token).Me(ctx); !isCode(err, api.CodeUnauthenticated) {
		t.Errorf("victim token after sign-out everywhere: %v", err)
	}
	unknown := "ses_" + "zzzzzzzzzzzzzzzzzzzzzzzzzz"
	sel, err := c.TerminateSelected(ctx, []string{chosen.Session.ID, unknown}, "picked")
	if err != nil || sel.Terminated != 1 || len(sel.NotFound) != 1 || sel.NotFound[0] != unknown {
		t.Fatalf("terminate selected = %+v %v", sel, err)
	}
	if _, err := c.TerminateSelected(ctx, nil, ""); !isCode(err, api.CodeInvalidArgument) {
		t.Errorf("empty selection: %v", err)
	}
	list, err := c.ListAuditFiltered(ctx, platformd.AuditParams{TargetUserID: victim.User.ID, Action: api.ActionUserSessionsTerminate, Limit: 5})
	if err != nil || len(list.Items) != 1 || list.Items[0].TargetUser == nil || list.Items[0].TargetUser.Email != "auditor@acme.test" {
		t.Fatalf("filtered audit = %+v %v", list.Items, err)
	}
	list, err = c.ListAuditFiltered(ctx, platformd.AuditParams{Q: "picked", ActorID: admin.User.ID})
	if err != nil || len(list.Items) != 1 || list.Items[0].Action != api.ActionSessionsTerminateSelected {
		t.Fatalf("audit q = %+v %v", list.Items, err)
	}
}

func isCode(err error, code string) bool {
	var e *platformd.Error
	return errors.As(err, &e) && e.Kind == code
}
