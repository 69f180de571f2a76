package app_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A span in backticks.
var codeSpan = regexp.MustCompile("`([^`\n]+)`")

// Where repository paths start. A span is taken as a path when it starts
// with one of these (or names a file at the root, like `main.go`); so the
// doc writes every file with its full path, and a bare `errors.go` would be
// read as a root file and fail.
var repoRoots = []string{"app/", "backend/", "build/", "frontend/", "docs/", "internal/", ".ci/"}

// A file at the repository's root: a name with one of these extensions
// and no slash.
var rootFile = regexp.MustCompile(`^[A-Za-z0-9_-]+\.(go|md|mod|sum|json|yaml|ts|svelte|mjs|sh)$`)

// expand turns `app/syncer/{load,apply}.go` into its paths.
func expand(p string) []string {
	open := strings.Index(p, "{")
	end := strings.Index(p, "}")
	if open < 0 || end < open {
		return []string{p}
	}
	var out []string
	for _, alt := range strings.Split(p[open+1:end], ",") {
		out = append(out, expand(p[:open]+alt+p[end+1:])...)
	}
	return out
}

// docPaths lists the repository paths a Markdown text names in backticks.
func docPaths(text string) []string {
	var out []string
	for _, m := range codeSpan.FindAllStringSubmatch(text, -1) {
		span := m[1]
		if strings.ContainsAny(span, " \t\"'=") {
			continue // a command or a snippet, not a path
		}
		isPath := rootFile.MatchString(span)
		for _, r := range repoRoots {
			isPath = isPath || strings.HasPrefix(span, r)
		}
		if isPath {
			out = append(out, expand(span)...)
		}
	}
	return out
}

// TestArchitectureNamesOnlyPathsThatExist keeps the map from rotting: every
// repository path ARCHITECTURE.md names in backticks (a file, a folder, a
// {a,b} list, a * pattern) must exist, so a rename or a move that forgets
// the doc fails here with the path named.
func TestArchitectureNamesOnlyPathsThatExist(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	paths := docPaths(string(b))
	// The doc names far more than this; fewer means the parsing broke and
	// the test would check nothing.
	if len(paths) < 60 {
		t.Fatalf("found only %d repository paths in ARCHITECTURE.md", len(paths))
	}
	seen := map[string]bool{}
	for _, p := range paths {
		if seen[p] {
			continue // one report per path, however often the doc names it
		}
		seen[p] = true
		full := filepath.Join("..", filepath.FromSlash(strings.TrimSuffix(p, "/")))
		if strings.Contains(p, "*") {
			if m, _ := filepath.Glob(full); len(m) == 0 {
				t.Errorf("ARCHITECTURE.md names %s: nothing matches it", p)
			}
			continue
		}
		if _, err := os.Stat(full); err != nil {
			t.Errorf("ARCHITECTURE.md names %s, which does not exist", p)
		}
	}
}

// TestDocPathsReadsWhatTheDocWrites holds the parser to the forms the doc
// uses, so that a form it stopped recognizing cannot silently pass.
func TestDocPathsReadsWhatTheDocWrites(t *testing.T) {
	got := docPaths("see `app/syncer/{load,apply}.go`, `main.go`, `go test ./app/...`, `Workspace.Terminate`, `backend/store/` and `frontend/src/lib/api.ts`")
	want := []string{"app/syncer/load.go", "app/syncer/apply.go", "main.go", "backend/store/", "frontend/src/lib/api.ts"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("docPaths = %q, want %q", got, want)
	}
}
