// Package app_test holds the app's layer rules (ARCHITECTURE.md, "Layers"):
// each rule is one test over the imports of every non-test .go file under
// app/, so a change that breaks a layer fails here with the file named.
package app_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sessiondesk/internal/importscan"
)

const mod = "sessiondesk/"

// testSupport reports whether dir holds test support rather than the
// shipped app (kratostest, desktest, internal/faultproxy, internal/testbus,
// …): they set up real platforms for tests and may reach anything.
func testSupport(dir string) bool {
	if importscan.Under(dir, "internal") {
		return true
	}
	for _, part := range strings.Split(dir, "/") {
		if strings.HasSuffix(part, "test") {
			return true
		}
	}
	return false
}

// TestOnlyThePlatformdProviderImportsTheBackend: the app speaks platformd's
// wire contract (backend/api) in one place, the platformd provider, which
// maps it to app/domain at its edge; the bench also imports it, since it
// seeds and drives platformd directly. The server and its store are another
// program: no app package builds on them.
func TestOnlyThePlatformdProviderImportsTheBackend(t *testing.T) {
	for _, f := range importscan.Files(t, ".", "app") {
		for _, p := range f.Imports {
			switch {
			case importscan.Under(p, mod+"backend/server"), importscan.Under(p, mod+"backend/store"):
				t.Errorf("%s imports %s: the app never builds on the platform's server or store", f.Path, p)
			case p == mod+"backend/api" && !importscan.Under(f.Dir, "provider/platformd") && !importscan.Under(f.Dir, "cmd/sdbench") && !testSupport(f.Dir):
				t.Errorf("%s imports %s: only the platformd provider (app/provider/platformd) speaks the wire contract; use app/domain", f.Path, p)
			}
		}
	}
}

// TestDomainImportsNothingOfTheApp: app/domain is the vocabulary every
// layer shares, so it depends on nothing but the standard library; anything
// else would make every layer depend on it too.
func TestDomainImportsNothingOfTheApp(t *testing.T) {
	for _, f := range importscan.Files(t, ".", "app") {
		if f.Dir != "domain" {
			continue
		}
		for _, p := range f.Imports {
			if strings.Contains(strings.Split(p, "/")[0], ".") || strings.HasPrefix(p, mod) {
				t.Errorf("%s imports %s: app/domain imports only the standard library", f.Path, p)
			}
		}
	}
}

// TestOnlyBindImportsWails: bind is the one door between the UI and Go, so
// the rest of the app runs (and is tested) without a window.
func TestOnlyBindImportsWails(t *testing.T) {
	for _, f := range importscan.Files(t, ".", "app") {
		for _, p := range f.Imports {
			if strings.HasPrefix(p, "github.com/wailsapp/") && f.Dir != "bind" {
				t.Errorf("%s imports %s: only app/bind touches Wails", f.Path, p)
			}
		}
	}
}

// The one desk file that turns a profile into a concrete provider: the
// rest of the desk works through provider.Provider and never knows which
// identity system it talks to.
const deskDialFile = "app/desk/signin.go"

// TestConcreteProvidersAreReachedOnlyThroughTheSeam: a concrete provider
// (provider/platformd, provider/kratos) is imported only where a profile is
// dialled (app/desk/signin.go) and by the bench; the Kratos admin client
// (app/kratos) only by its provider and the bench (whose floor decodes the
// same pages with the client's own decoder). Everything else holds a
// provider.Provider.
func TestConcreteProvidersAreReachedOnlyThroughTheSeam(t *testing.T) {
	for _, f := range importscan.Files(t, ".", "app") {
		if testSupport(f.Dir) {
			continue
		}
		for _, p := range f.Imports {
			switch {
			case p == mod+"app/provider/platformd" || p == mod+"app/provider/kratos":
				if f.Path != deskDialFile && !importscan.Under(f.Dir, "cmd/sdbench") {
					t.Errorf("%s imports %s: a concrete provider is chosen in %s only; use provider.Provider", f.Path, p, deskDialFile)
				}
			case p == mod+"app/kratos":
				if f.Dir != "provider/kratos" && !importscan.Under(f.Dir, "cmd/sdbench") {
					t.Errorf("%s imports %s: the Kratos admin client is reached through app/provider/kratos", f.Path, p)
				}
			}
		}
	}
}

// TestNoLayerImportsTheOneAboveIt: bind sits on desk, desk on the syncer;
// none of them is imported from below, so each can be tested with only
// what is under it.
func TestNoLayerImportsTheOneAboveIt(t *testing.T) {
	mayImport := map[string][]string{
		mod + "app/bind":   {},                              // nothing in app/ builds on the UI's services
		mod + "app/desk":   {"bind"},                        // the services wrap the desk
		mod + "app/syncer": {"bind", "desk", "cmd/sdbench"}, // the desk runs it, bind reads its status, the bench measures it
	}
	for _, f := range importscan.Files(t, ".", "app") {
		if testSupport(f.Dir) {
			continue
		}
		for _, p := range f.Imports {
			allowed, ruled := mayImport[p]
			if !ruled || mod+"app/"+f.Dir == p {
				continue
			}
			ok := false
			for _, a := range allowed {
				ok = ok || importscan.Under(f.Dir, a)
			}
			if !ok {
				t.Errorf("%s imports %s: only %v under app/ may (a lower layer never reaches up)", f.Path, p, allowed)
			}
		}
	}
}

// Any module path under the generated Wails bindings.
var wailsjsRef = regexp.MustCompile(`['"]([^'"\n]*wailsjs/[^'"\n]*)['"]`)

// A type-only import from the generated models: types vanish at build
// time, so importing them calls nothing.
var typeImport = regexp.MustCompile(`import\s+type\s+[^;]*?from\s+['"][^'"]*wailsjs/go/models['"]`)

// TestTheFrontendCallsGoOnlyThroughAPI: frontend/src/lib/api.ts is the one
// module that calls the generated bindings (bind's services and the Wails
// runtime); other modules may import the generated types only. So the UI
// has one list of what it asks of Go, and component tests mock one module.
func TestTheFrontendCallsGoOnlyThroughAPI(t *testing.T) {
	src := filepath.Join("..", "frontend", "src")
	checked := 0
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "wailsjs" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".ts") || strings.HasSuffix(path, ".svelte")) {
			return nil
		}
		checked++
		rel := filepath.ToSlash(strings.TrimPrefix(path, src+string(filepath.Separator)))
		if rel == "lib/api.ts" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(b)
		refs := len(wailsjsRef.FindAllString(text, -1))
		types := len(typeImport.FindAllString(text, -1))
		if refs > types {
			t.Errorf("frontend/src/%s refers to the generated bindings beyond a type import: call Go through src/lib/api.ts", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("checked only %d frontend files: the walk missed frontend/src", checked)
	}
}
