package seed

import (
	"fmt"
	mrand "math/rand/v2"
	"slices"
)

// The pools every seed draws people, places and browsers from, given to
// other seeders (sdbench's Ory Kratos seed) so that a Kratos organization
// looks like a platformd one: one list of each, kept here.

// FirstNames are the given names of generated people.
func FirstNames() []string { return slices.Clone(firstNames) }

// LastNames are the family names of generated people.
func LastNames() []string { return slices.Clone(lastNames) }

// Locations are "City, CC" places; "" entries are sessions without one.
func Locations() []string { return slices.Clone(locations) }

// UserAgents are the browsers and apps sessions are signed in from.
func UserAgents() []string { return slices.Clone(userAgents) }

// IP is a client address drawn from r in the documentation ranges
// (RFC 5737, RFC 3849), so no seeded address is anyone's real one.
func IP(r *mrand.Rand) string {
	switch r.IntN(8) {
	case 0:
		return fmt.Sprintf("198.51.100.%d", 1+r.IntN(254))
	case 1, 2:
		return fmt.Sprintf("2001:db8:%x::%x", r.IntN(0xffff), 1+r.IntN(0xffff))
	case 3, 4:
		return fmt.Sprintf("192.0.2.%d", 1+r.IntN(254))
	default:
		return fmt.Sprintf("203.0.113.%d", 1+r.IntN(254))
	}
}
