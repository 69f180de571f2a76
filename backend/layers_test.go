// Package backend_test holds platformd's layer rules (ARCHITECTURE.md,
// "Layers"): each rule is one test over the imports of every non-test .go
// file under backend/, so a change that breaks a layer fails here with the
// file named.
package backend_test

import (
	"strings"
	"testing"

	"sessiondesk/internal/importscan"
)

const mod = "sessiondesk/"

// thirdParty reports whether an import path names a module outside the
// standard library (its first element has a dot).
func thirdParty(p string) bool { return strings.Contains(strings.Split(p, "/")[0], ".") }

// TestAPIImportsOnlyTheStandardLibrary: backend/api is the wire contract the
// app imports (app/provider/platformd); anything it imported would be
// built into the desktop app too.
func TestAPIImportsOnlyTheStandardLibrary(t *testing.T) {
	for _, f := range importscan.Files(t, ".", "backend") {
		if f.Dir != "api" {
			continue
		}
		for _, p := range f.Imports {
			if strings.HasPrefix(p, mod) || thirdParty(p) {
				t.Errorf("%s imports %s: backend/api imports only the standard library", f.Path, p)
			}
		}
	}
}

// TestStoresNeverImportTheLayersAboveThem: a store (backend/store and its
// sqlite, postgres and storetest packages) knows the contract's constants
// and its own domain, never the HTTP server, the seeds, the demo or the
// binary that run on top of it.
func TestStoresNeverImportTheLayersAboveThem(t *testing.T) {
	above := []string{"server", "seed", "demo", "platformtest", "cmd"}
	for _, f := range importscan.Files(t, ".", "backend") {
		if !importscan.Under(f.Dir, "store") {
			continue
		}
		for _, p := range f.Imports {
			for _, a := range above {
				if importscan.Under(p, mod+"backend/"+a) {
					t.Errorf("%s imports %s: a store never builds on the layers above it", f.Path, p)
				}
			}
		}
	}
}

// TestServerSeesOnlyTheStoreInterface: the handlers work against
// store.Store, so SQLite and PostgreSQL are served by the same code; only
// the composition roots (cmd/platformd, demo, platformtest) pick one.
func TestServerSeesOnlyTheStoreInterface(t *testing.T) {
	for _, f := range importscan.Files(t, ".", "backend") {
		if !importscan.Under(f.Dir, "server") {
			continue
		}
		for _, p := range f.Imports {
			if strings.HasPrefix(p, mod+"backend/store/") {
				t.Errorf("%s imports %s: the server uses store.Store, never a concrete store", f.Path, p)
			}
		}
	}
}

// TestBackendNeverImportsTheApp: platformd is its own program; the app
// builds on its contract, never the reverse.
func TestBackendNeverImportsTheApp(t *testing.T) {
	for _, f := range importscan.Files(t, ".", "backend") {
		for _, p := range f.Imports {
			if importscan.Under(p, mod+"app") {
				t.Errorf("%s imports %s: the backend never imports the desktop app", f.Path, p)
			}
		}
	}
}

// TestLeafPackagesImportNothingOfTheRepository: totp and useragent are
// small helpers both programs use (the app for the code's length and for
// Kratos' client labels); they stay leaves so either side can take them.
func TestLeafPackagesImportNothingOfTheRepository(t *testing.T) {
	for _, f := range importscan.Files(t, ".", "backend") {
		if f.Dir != "totp" && f.Dir != "useragent" {
			continue
		}
		for _, p := range f.Imports {
			if strings.HasPrefix(p, mod) {
				t.Errorf("%s imports %s: backend/%s is a leaf", f.Path, p, f.Dir)
			}
		}
	}
}
