package main

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"sessiondesk/app/bind"
	"sessiondesk/app/desk"
	"sessiondesk/app/notify"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/backend/demo"
)

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
	isDemo := a.flags.server == "" && a.startDemoPlatform()
	a.desk.Start(a.bg)
	if isDemo {
		a.startDemo()
	}
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
