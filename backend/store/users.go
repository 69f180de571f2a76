package store

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Roles a user can hold (User.Role). The server's role table
// (server.PermissionsOf) grants permissions by these names; a stored role
// that is none of them grants nothing.
const (
	RoleSecurityAdmin = "security_admin"
	RoleAuditor       = "auditor"
	RoleMember        = "member"
)

// Roles lists every role, most powerful first.
var Roles = []string{RoleSecurityAdmin, RoleAuditor, RoleMember}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool {
	for _, r := range Roles {
		if r == role {
			return true
		}
	}
	return false
}

// RoleList is Roles for messages: "security_admin, auditor or member".
func RoleList() string {
	return strings.Join(Roles[:len(Roles)-1], ", ") + " or " + Roles[len(Roles)-1]
}

// Stored passwords (NewUser.PasswordHash, User.PasswordHash) are bcrypt
// hashes. These are the only functions that make or check one, so the
// scheme lives in one place.

// HashPassword hashes a password at the given bcrypt cost (0 means
// bcrypt's default cost; tests use MinPasswordCost for speed).
func HashPassword(pw string, cost int) ([]byte, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return nil, fmt.Errorf("store: hash password: %w", err)
	}
	return h, nil
}

// MinPasswordCost is the cheapest cost HashPassword accepts: for tests only.
const MinPasswordCost = bcrypt.MinCost

// PasswordMatches reports whether pw is the password hash was made from.
func PasswordMatches(hash []byte, pw string) bool {
	return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil
}

// FoldASCII lowers only ASCII letters, as SQLite's lower() does: both
// stores fold e-mails and search text with it, so a query and the column it
// is compared with are folded alike whichever database holds them.
func FoldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// NormalEmail is an e-mail as stored and looked up: trimmed and folded.
func NormalEmail(email string) string { return FoldASCII(strings.TrimSpace(email)) }

// Normalized is nu as CreateUser stores it: an ID assigned when empty and
// the e-mail in its normal form.
func (nu NewUser) Normalized() NewUser {
	if nu.ID == "" {
		nu.ID = NewID(PrefixUser)
	}
	nu.Email = NormalEmail(nu.Email)
	return nu
}

// User is the user CreateUser made of nu at createdAt.
func (nu NewUser) User(createdAt time.Time) User {
	return User{ID: nu.ID, OrgID: nu.OrgID, Email: nu.Email, Name: nu.Name, Role: nu.Role,
		PasswordHash: nu.PasswordHash, TOTPSecret: nu.TOTPSecret, CreatedAt: createdAt}
}
