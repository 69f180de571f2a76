package desk_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/zalando/go-keyring"

	"sessiondesk/app/desk/desktest"
	"sessiondesk/app/keychain"
)

// realKeychain is true when the tests run against the OS keychain (the
// gnome-keyring recipe). Elsewhere they use go-keyring's mock, unless
// SESSIONDESK_REQUIRE_KEYCHAIN=1 demands the real one.
var realKeychain bool

func TestMain(m *testing.M) {
	if err := keychain.Probe(context.Background()); err == nil {
		realKeychain = true
	} else if os.Getenv("SESSIONDESK_REQUIRE_KEYCHAIN") == "1" {
		fmt.Fprintln(os.Stderr, "SESSIONDESK_REQUIRE_KEYCHAIN=1 but no keychain:", err)
		os.Exit(1)
	} else {
		fmt.Fprintln(os.Stderr, "desk tests: no OS keychain; using go-keyring's mock")
		keyring.MockInit()
	}
	os.Exit(m.Run())
}

// The desk's test environment is desktest's, shared with app/bind's tests;
// these short names keep the desk's many tests readable.
type (
	env      = desktest.Env
	recorder = desktest.Recorder
)

var (
	newEnv         = desktest.NewEnv
	signIn         = desktest.SignIn
	signInTrusting = desktest.SignInTrusting
	syncNow        = desktest.SyncNow
	eventually     = desktest.Eventually
	codeOf         = desktest.CodeOf
	ws             = desktest.Workspace
)

// platformClient is a client of p that the test calls directly, to see
// or change what the platform holds behind the desk's back.
var platformClient = desktest.PlatformClient
