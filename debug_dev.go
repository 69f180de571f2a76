//go:build dev

package main

import (
	"log/slog"
	"os"

	"sessiondesk/internal/devdebug"
)

// startDebug serves the Go profiles and heap figures on the loopback
// address in $SESSIONDESK_DEBUG_ADDR, in dev builds only (the bench reads
// the Go heap there; see docs/bench.md). A non-loopback address stops the
// app rather than be ignored.
func startDebug(log *slog.Logger) (stop func(), err error) {
	addr := os.Getenv(devdebug.EnvAddr)
	if addr == "" {
		return func() {}, nil
	}
	return devdebug.Serve(addr, log)
}
