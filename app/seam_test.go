// Package app_test holds the rule of the provider seam (issue 19): the app
// speaks platformd's wire contract in one place only.
package app_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The backend packages the app must not build on: the wire contract is the
// platformd provider's business, and the server and its store are another
// program.
var backendOnly = []string{"sessiondesk/backend/api", "sessiondesk/backend/server", "sessiondesk/backend/store"}

// Where the wire contract may be imported from (non-test code): the
// platformd provider, which maps it to the app's domain at its boundary,
// and the bench harness, which seeds and drives platformd directly (it
// measures the platform itself, beside the app's real syncer and cache).
// Neither may import the server or the store.
var mayImportAPI = []string{"provider/platformd", "cmd/sdbench"}

// TestOnlyThePlatformdProviderImportsTheBackend parses the imports of every
// non-test .go file under app/ and fails for each that imports backend/api
// from anywhere but the platformd provider (or the bench), or
// backend/server or backend/store from anywhere.
func TestOnlyThePlatformdProviderImportsTheBackend(t *testing.T) {
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		dir := filepath.ToSlash(filepath.Dir(path))
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, b := range backendOnly {
				if p != b && !strings.HasPrefix(p, b+"/") {
					continue
				}
				if p == "sessiondesk/backend/api" && allowed(dir) {
					continue
				}
				if p == "sessiondesk/backend/api" {
					t.Errorf("%s imports %s: only the platformd provider (app/provider/platformd) speaks the wire contract; use app/domain", path, p)
				} else {
					t.Errorf("%s imports %s: the app never builds on the platform's server or store", path, p)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("parsed only %d files under app/: the walk missed the app", files)
	}
}

func allowed(dir string) bool {
	for _, a := range mayImportAPI {
		if dir == a || strings.HasPrefix(dir, a+"/") {
			return true
		}
	}
	return false
}
