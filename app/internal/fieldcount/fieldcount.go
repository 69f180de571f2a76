// Package fieldcount guards the hand-written encoders of the domain types
// (the cache's binary codec, the index's row packers): each states how many
// fields of each type it writes, so that a field added to a type and not to
// the encoder fails the encoder's test instead of vanishing from what it
// writes.
package fieldcount

import (
	"reflect"
	"testing"
)

// Check fails t for every type whose field count is not the one encoder
// (a file name, for the message) knows.
func Check(t testing.TB, encoder string, known map[reflect.Type]int) {
	t.Helper()
	for typ, n := range known {
		if typ.NumField() != n {
			t.Errorf("%s has %d fields, %s writes %d: extend %s", typ, typ.NumField(), encoder, n, encoder)
		}
	}
}
