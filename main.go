// Command sessiondesk is the Sessions Desk desktop app: the composition root
// that reads flags, builds the app's services and hands them to Wails.
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"

	"sessiondesk/app/bind"
)

//go:embed all:frontend/dist
var assets embed.FS

//go:embed build/appicon.png
var icon []byte

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sessiondesk:", err)
		os.Exit(1)
	}
}

func run() error {
	fs := flag.NewFlagSet("sessiondesk", flag.ContinueOnError)
	// Wails dev builds read these four from the same command line; accept them
	// here so that our own parsing does not reject a dev invocation.
	for _, name := range []string{"assetdir", "devserver", "frontenddevserverurl", "loglevel"} {
		fs.String(name, "", "passed to Wails in dev builds")
	}
	dataDir := fs.String("data-dir", "", "keep config, cache and demo data under this folder instead of the user's folders")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	_ = dataDir // used once the app's services are wired in
	appSvc := bind.NewAppService(version, time.Now())

	return wails.Run(&options.App{
		Title:            "Sessions Desk",
		Width:            1280,
		Height:           800,
		MinWidth:         1024,
		MinHeight:        640,
		AssetServer:      &assetserver.Options{Assets: assets},
		BackgroundColour: &options.RGBA{R: 255, G: 255, B: 255, A: 255},
		OnStartup: func(ctx context.Context) {
			appSvc.Start(ctx)
			log.Info("window started")
		},
		Bind:           []any{appSvc},
		ErrorFormatter: bind.FormatError,
		Linux:          &linux.Options{ProgramName: "sessiondesk", Icon: icon},
	})
}
