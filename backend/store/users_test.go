package store

import "testing"

func TestRoles(t *testing.T) {
	for _, r := range []string{RoleSecurityAdmin, RoleAuditor, RoleMember} {
		if !ValidRole(r) {
			t.Errorf("%q not valid", r)
		}
	}
	for _, r := range []string{"", "admin", "Member", "security_admin "} {
		if ValidRole(r) {
			t.Errorf("%q valid", r)
		}
	}
	if got := RoleList(); got != "security_admin, auditor or member" {
		t.Errorf("RoleList() = %q", got)
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse", MinPasswordCost)
	if err != nil {
		t.Fatal(err)
	}
	if !PasswordMatches(h, "correct horse") || PasswordMatches(h, "correct horse ") || PasswordMatches(nil, "") {
		t.Error("PasswordMatches disagrees with the hashed password")
	}
}
