package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"sessiondesk/app/desk"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/app/syncer"
)

type flags struct {
	version        bool
	server         string
	caFile         string
	dataDir        string
	syncInterval   time.Duration
	newDeviceEvery time.Duration
}

func parseFlags(args []string) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("sessiondesk", flag.ContinueOnError)
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.StringVar(&f.server, "server", "", "URL of a deployed platformd (e.g. https://platform.example.org); without it the app runs the embedded demo platform")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM file of your organization's own certificate authority, trusted besides the system's for -server (the sign-in form can name one per account too)")
	fs.StringVar(&f.dataDir, "data-dir", "", "keep config, cache and demo data under this directory instead of the user's config and cache directories")
	fs.DurationVar(&f.syncInterval, "sync-interval", syncer.DefaultInterval, "time between background syncs")
	fs.DurationVar(&f.newDeviceEvery, "demo-new-device-every", time.Minute, "demo mode: simulate a sign-in from a new device this often (0 disables)")
	// Wails dev builds read these four from the same command line; accept them
	// here so that our own parsing does not reject a dev invocation.
	for _, name := range []string{"assetdir", "devserver", "frontenddevserverurl", "loglevel"} {
		fs.String(name, "", "passed to Wails in dev builds")
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if f.syncInterval < time.Second {
		return f, errors.New("-sync-interval must be at least 1s")
	}
	if f.server != "" {
		// Refuse a wrong address now rather than leave it in the sign-in form.
		if _, err := httpx.ParseServerURL(f.server); err != nil {
			return f, fmt.Errorf("-server: %s", desk.UserError(err).Message)
		}
	}
	if f.caFile != "" {
		// Refuse a wrong path now rather than at the first sign-in.
		if _, err := platformd.New("https://platform.invalid", httpx.Options{CAFile: f.caFile}); err != nil {
			return f, fmt.Errorf("-ca-file: %s", desk.UserError(err).Message)
		}
	}
	if f.newDeviceEvery < 0 {
		return f, errors.New("-demo-new-device-every must not be negative")
	}
	return f, nil
}

// dirs are where the app keeps its files.
type dirs struct {
	config, cache, demoDB string
}

func resolveDirs(dataDir string) (dirs, error) {
	if dataDir != "" {
		return dirs{config: dataDir, cache: filepath.Join(dataDir, "cache"), demoDB: filepath.Join(dataDir, "demo-platform.db")}, nil
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return dirs{}, fmt.Errorf("no config directory: %w", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return dirs{}, fmt.Errorf("no cache directory: %w", err)
	}
	base := filepath.Join(cfg, "sessiondesk")
	return dirs{config: base, cache: filepath.Join(cache, "sessiondesk"), demoDB: filepath.Join(base, "demo-platform.db")}, nil
}
