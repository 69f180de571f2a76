// Package faultproxytest starts a faultproxy in front of a test's server,
// closed when the test ends, for the tests of every layer that talks to a
// platform over an unreliable network (the client, the syncer, the desk).
package faultproxytest

import (
	"testing"

	"sessiondesk/app/internal/faultproxy"
)

// Start puts a real fault-injecting TCP proxy in front of target (a base
// URL) until the test ends; f may change later through Set.
func Start(t testing.TB, target string, f faultproxy.Faults) *faultproxy.Proxy {
	t.Helper()
	fp, err := faultproxy.Start(target, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fp.Close() })
	return fp
}
