// Command sessiondesk is the Sessions Desk desktop app: the composition root
// that reads flags, builds the app's services and hands them to Wails.
//
// Without -server it runs in demo mode: the platform is embedded in-process on
// loopback with a seeded SQLite database, the app signs in as
// admin@acme.test through its real sign-in path (token in the real keychain),
// and a simulated sign-in from a brand-new device arrives about once a minute
// so that the new-device notification can be seen.
package main

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"os"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"

	"sessiondesk/app/bind"
)

//go:embed all:frontend/dist
var assets embed.FS

// version is set at build time with -ldflags "-X main.version=…" by
// build/scripts/lib.sh (project_version: the git tag or 0.0.0+commit).
var version = "dev"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sessiondesk:", err)
		os.Exit(1)
	}
}

func run() error {
	f, err := parseFlags(os.Args[1:])
	if err != nil {
		return err
	}
	if f.version {
		// The same string the About dialog shows (bind.AppInfo.Version).
		fmt.Println("sessiondesk", version)
		return nil
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	webViewDefaults()
	stopDebug, err := startDebug(log)
	if err != nil {
		return err
	}
	defer stopDebug()
	a, err := newApp(f, log)
	if err != nil {
		return err
	}
	defer a.stopBg() // when the window never started
	return wails.Run(&options.App{
		Title:            "Sessions Desk",
		Width:            1280,
		Height:           800,
		MinWidth:         1024,
		MinHeight:        640,
		AssetServer:      &assetserver.Options{Assets: assets},
		BackgroundColour: &options.RGBA{R: 255, G: 255, B: 255, A: 255},
		OnStartup: func(ctx context.Context) {
			a.events.SetEmitter(bind.WailsEmitter(ctx))
			bind.Start(ctx, a.services.Bound()...)
			attachWindow(ctx)
			a.log.Info("window started", "demo", a.flags.server == "", "data_dir", a.dirs.config)
			// The platform start and the sign-in talk to the network and the
			// keychain: never block the window on them. auth:changed tells
			// the UI when they are done.
			a.startInBackground()
		},
		OnShutdown:     func(context.Context) { a.shutdown() },
		Bind:           a.services.Bound(),
		ErrorFormatter: bind.FormatError,
		// A table needs no GPU. Wails leaves the policy at "always" when
		// Linux options are given, and accelerated compositing cost the web
		// process ~130 MiB (GL buffers in llvmpipe without a GPU): the
		// WebKit processes measured 387 → 252 MiB at 2,000 sessions.
		Linux: &linux.Options{ProgramName: "sessiondesk", WebviewGpuPolicy: linux.WebviewGpuPolicyNever},
	})
}
