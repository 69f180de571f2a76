package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The profiler is a dev build's only: the tags of a production build
// (wails build, build/scripts/lib.sh) leave net/http/pprof and
// internal/devdebug out of the binary; the dev build's tags bring them in,
// which also shows that the listing below sees them when they are there.
func TestOnlyDevBuildsCarryTheProfiler(t *testing.T) {
	deps := func(tags string) []string {
		out, err := exec.Command("go", "list", "-deps", "-tags", tags, ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go list -tags %s: %v\n%s", tags, err, out)
		}
		return strings.Fields(string(out))
	}
	profiler := []string{"net/http/pprof", "sessiondesk/internal/devdebug"}
	prod, dev := deps("desktop,production,webkit2_41"), deps("dev,webkit2_41")
	for _, p := range profiler {
		if slices.Contains(prod, p) {
			t.Errorf("a production build links %s", p)
		}
		if !slices.Contains(dev, p) {
			t.Errorf("a dev build does not link %s", p)
		}
	}
}
