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
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
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
	if f.server != "" {
		// Refuse a wrong address now rather than leave it in the sign-in form.
		if _, err := httpx.ParseServerURL(f.server); err != nil {
			return f, fmt.Errorf("-server: %w", err)
		}
	}
	if f.caFile != "" {
		// Refuse a wrong path now rather than at the first sign-in.
		if _, err := platformd.New("https://platform.invalid", httpx.Options{CAFile: f.caFile}); err != nil {
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
			a.log.Info("window started", "demo", a.flags.server == "", "data_dir", a.dirs.config)
			// The platform start and the sign-in talk to the network and the
			// keychain: never block the window on them. auth:changed tells
			// the UI when they are done.
			a.startInBackground()
		},
		OnShutdown:     func(context.Context) { a.shutdown() },
		Bind:           a.services.Bound(),
		ErrorFormatter: bind.FormatError,
		Linux:          &linux.Options{ProgramName: "sessiondesk"},
	})
}

// app is the app's start-up and shutdown: the services the window binds,
// the embedded demo platform, and the background work that outlives single
// bound calls. It knows nothing of Wails (run hands its parts to the
// window), so tests drive it without one.
type app struct {
	flags    flags
	dirs     dirs
	log      *slog.Logger
	notifier *notify.Notifier
	events   *bind.Events
	desk     *desk.Desk
	services *bind.Services

	// Background work (demo platform, resume, sync loops) lives until
	// shutdown, not merely as long as a bound call.
	bg     context.Context
	stopBg context.CancelFunc
	wg     sync.WaitGroup
	ready  chan struct{} // closed when start has finished

	mu    sync.Mutex
	demoP *demo.Platform // nil unless the demo platform runs
}

// newApp makes the directories and builds the services; nothing runs yet.
func newApp(f flags, log *slog.Logger) (*app, error) {
	dd, err := resolveDirs(f.dataDir)
	if err != nil {
		return nil, err
	}
	for _, dir := range []string{dd.config, dd.cache} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	a := &app{flags: f, dirs: dd, log: log, events: &bind.Events{}, ready: make(chan struct{})}
	a.notifier = notify.Connect("", log.With("component", "notify"))
	a.desk, err = desk.New(desk.Config{
		ConfigDir:    dd.config,
		CacheDir:     dd.cache,
		Notifier:     a.notifier,
		Events:       a.events,
		SyncInterval: f.syncInterval,
		Server:       f.server, // the sign-in form starts there
		Log:          log,
		// The default for accounts whose profile names no CA file.
		Client: httpx.Options{CAFile: f.caFile},
	})
	if err != nil {
		_ = a.notifier.Close()
		return nil, err
	}
	a.services = bind.NewServices(a.desk, version, time.Now())
	a.bg, a.stopBg = context.WithCancel(context.Background())
	bind.AwaitStartup(a.services.Auth, a.ready)
	return a, nil
}

// startInBackground runs start apart; shutdown waits for it.
func (a *app) startInBackground() {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.start()
	}()
}

// start starts the demo platform (without -server), resumes the last
// sign-in, and in demo mode signs in as the demo account and starts the
// simulated new-device sign-ins.
func (a *app) start() {
	defer close(a.ready)
	isDemo := a.flags.server == ""
	if isDemo {
		// The embedded platform logs every request at Info; in the app's
		// log only its warnings and errors are worth a line.
		platformLog := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("component", "demo-platform")
		p, err := demo.Start(a.bg, a.dirs.demoDB, platformLog)
		if err != nil {
			a.log.Error("demo platform did not start; sign in to a platform instead", "err", err)
			isDemo = false
		} else {
			a.mu.Lock()
			a.demoP = p
			a.mu.Unlock()
			a.desk.SetDemoServer(p.URL())
			a.log.Info("demo platform started", "url", p.URL(), "db", a.dirs.demoDB)
		}
	}
	a.desk.Start(a.bg)
	if !isDemo {
		return
	}
	p := a.demoPlatform()
	if st := a.desk.State(); !st.SignedIn || !st.Demo {
		ok, err := a.desk.ResumeProfile(a.bg, a.desk.DemoProfile(demoOrg, demoEmail))
		if err != nil {
			a.log.Warn("stored demo sign-in not resumed", "err", err)
		}
		if !ok {
			st, err := a.services.Auth.SignIn(bind.SignInRequest{ServerURL: p.URL(), Org: demoOrg, Email: demoEmail, Password: demoPassword})
			if err != nil {
				a.log.Error("demo sign-in failed", "err", err)
			} else {
				a.log.Info("demo: signed in", "signed_in", st.SignedIn)
			}
		}
	}
	if every := a.flags.newDeviceEvery; every > 0 {
		a.log.Info("demo: a simulated sign-in from a new device will arrive about every", "period", every)
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			simulateNewDevices(a.bg, p, every, a.log)
		}()
	}
}

func (a *app) demoPlatform() *demo.Platform {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.demoP
}

// shutdown ends the background work, closes the workspace (sync, cache;
// on a shared workstation quitting also signs out and forgets this
// workstation's copy, see desk.Shutdown), stops the demo platform and lets
// go of the notification service.
func (a *app) shutdown() {
	a.stopBg()
	a.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	a.desk.Shutdown(ctx)
	cancel()
	if p := a.demoPlatform(); p != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := p.Close(ctx); err != nil {
			a.log.Warn("demo platform close", "err", err)
		}
		cancel()
	}
	if err := a.notifier.Close(); err != nil {
		a.log.Warn("notifier close", "err", err)
	}
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
