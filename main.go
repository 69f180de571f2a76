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
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"

	"sessiondesk/app/bind"
	"sessiondesk/app/desk"
	"sessiondesk/app/notify"
	"sessiondesk/app/platform"
	"sessiondesk/app/syncer"
	"sessiondesk/backend/demo"
)

//go:embed all:frontend/dist
var assets embed.FS

// version is set at build time with -ldflags "-X main.version=…" by
// build/scripts/lib.sh (project_version: the git tag or 0.0.0+commit).
var version = "dev"

// Demo account the app signs in with in demo mode (the demo seed's, see
// backend/seed).
const (
	demoOrg      = "acme"
	demoEmail    = "admin@acme.test"
	demoPassword = "demo-password"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sessiondesk:", err)
		os.Exit(1)
	}
}

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
	if f.caFile != "" {
		// Refuse a wrong path now rather than at the first sign-in.
		if _, err := platform.New("https://platform.invalid", platform.Options{CAFile: f.caFile}); err != nil {
			return f, fmt.Errorf("-ca-file: %w", err)
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
	dd, err := resolveDirs(f.dataDir)
	if err != nil {
		return err
	}
	for _, dir := range []string{dd.config, dd.cache} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}

	notifier := notify.Connect("", log.With("component", "notify"))
	events := &bind.Events{}
	d, err := desk.New(desk.Config{
		ConfigDir:    dd.config,
		CacheDir:     dd.cache,
		Notifier:     notifier,
		Events:       events,
		SyncInterval: f.syncInterval,
		Log:          log,
		// The default for accounts whose profile names no CA file.
		Client: platform.Options{CAFile: f.caFile},
	})
	if err != nil {
		return err
	}
	services := bind.NewServices(d, version, time.Now())

	// Background work (demo platform, resume, sync loops) lives until
	// shutdown, not merely as long as a bound call.
	bg, stopBg := context.WithCancel(context.Background())
	defer stopBg()
	var (
		mu     sync.Mutex
		demoP  *demo.Platform
		wg     sync.WaitGroup
		isDemo = f.server == ""
	)

	ready := make(chan struct{})
	bind.AwaitStartup(services.Auth, ready)
	startup := func() {
		defer close(ready)
		if isDemo {
			// The embedded platform logs every request at Info; in the app's
			// log only its warnings and errors are worth a line.
			platformLog := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("component", "demo-platform")
			p, err := demo.Start(bg, dd.demoDB, platformLog)
			if err != nil {
				log.Error("demo platform did not start; sign in to a platform instead", "err", err)
				isDemo = false
			} else {
				mu.Lock()
				demoP = p
				mu.Unlock()
				d.SetDemoServer(p.URL())
				log.Info("demo platform started", "url", p.URL(), "db", dd.demoDB)
			}
		}
		d.Start(bg)
		if !isDemo {
			return
		}
		if st := d.State(); !st.SignedIn || !st.Demo {
			ok, err := d.ResumeProfile(bg, d.DemoProfile(demoOrg, demoEmail))
			if err != nil {
				log.Warn("stored demo sign-in not resumed", "err", err)
			}
			if !ok {
				st, err := services.Auth.SignIn(bind.SignInRequest{ServerURL: demoP.URL(), Org: demoOrg, Email: demoEmail, Password: demoPassword})
				if err != nil {
					log.Error("demo sign-in failed", "err", err)
				} else {
					log.Info("demo: signed in", "signed_in", st.SignedIn)
				}
			}
		}
		if f.newDeviceEvery > 0 {
			log.Info("demo: a simulated sign-in from a new device will arrive about every", "period", f.newDeviceEvery)
			wg.Add(1)
			go func() {
				defer wg.Done()
				simulateNewDevices(bg, demoP, f.newDeviceEvery, log)
			}()
		}
	}

	return wails.Run(&options.App{
		Title:            "Sessions Desk",
		Width:            1280,
		Height:           800,
		MinWidth:         1024,
		MinHeight:        640,
		AssetServer:      &assetserver.Options{Assets: assets},
		BackgroundColour: &options.RGBA{R: 255, G: 255, B: 255, A: 255},
		OnStartup: func(ctx context.Context) {
			events.SetEmitter(bind.WailsEmitter(ctx))
			bind.Start(ctx, services.Bound()...)
			log.Info("window started", "demo", isDemo, "data_dir", dd.config)
			// The platform start and the sign-in talk to the network and the
			// keychain: never block the window on them. auth:changed tells
			// the UI when they are done.
			wg.Add(1)
			go func() {
				defer wg.Done()
				startup()
			}()
		},
		OnShutdown: func(context.Context) {
			stopBg()
			wg.Wait()
			d.Close()
			mu.Lock()
			p := demoP
			mu.Unlock()
			if p != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				if err := p.Close(ctx); err != nil {
					log.Warn("demo platform close", "err", err)
				}
				cancel()
			}
			if err := notifier.Close(); err != nil {
				log.Warn("notifier close", "err", err)
			}
		},
		Bind:           services.Bound(),
		ErrorFormatter: bind.FormatError,
		Linux:          &linux.Options{ProgramName: "sessiondesk"},
	})
}

// simulateNewDevices makes a seeded user sign in from a new device every
// period (with ±20 % jitter, "about once a minute") until ctx ends.
func simulateNewDevices(ctx context.Context, p *demo.Platform, every time.Duration, log *slog.Logger) {
	for {
		wait := every*8/10 + time.Duration(float64(every)*0.4*rand.Float64())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if err := p.SimulateNewDeviceSignIn(ctx); err != nil && ctx.Err() == nil {
			log.Warn("demo: simulated sign-in failed", "err", err)
		}
	}
}
