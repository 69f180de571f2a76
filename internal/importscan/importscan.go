// Package importscan lists what the Go files of a tree import, for the
// layer tests (app/layers_test.go, backend/layers_test.go): one walker, so
// both hold their rules over the same reading of the source.
package importscan

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// File is one non-test Go file and what it imports.
type File struct {
	Path    string   // from the repository root, slash-separated
	Dir     string   // its package directory, relative to the scanned tree
	Imports []string // import paths as written
}

// Scan parses the imports of every non-test .go file under root; name is
// root's path from the repository root (e.g. "app"), which File.Path
// starts with. Test files are left out: they may reach across layers to
// set up real platforms.
func Scan(root, name string) ([]File, error) {
	fset := token.NewFileSet()
	var files []File
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
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
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		g := File{Path: name + "/" + rel, Dir: filepath.ToSlash(filepath.Dir(rel))}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			g.Imports = append(g.Imports, p)
		}
		files = append(files, g)
		return nil
	})
	return files, err
}

// Files is Scan for a test: it fails t when the tree cannot be read, or
// when it holds fewer than 50 files — a rule checked over no files cannot
// fail, and both trees hold well over 50.
func Files(t testing.TB, root, name string) []File {
	t.Helper()
	files, err := Scan(root, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("parsed only %d files under %s/: the walk missed the tree", len(files), name)
	}
	return files
}

// Under reports whether the package path pkg is dir or below it.
func Under(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }
