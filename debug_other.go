//go:build !dev

package main

import (
	"context"
	"log/slog"
)

// startDebug does nothing outside dev builds: production binaries carry no
// profiler (debug_dev.go has the dev one).
func startDebug(*slog.Logger) (stop func(), err error) { return func() {}, nil }

// attachWindow does nothing outside dev builds (debug_dev.go has the dev one).
func attachWindow(context.Context) {}
