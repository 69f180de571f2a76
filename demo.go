package main

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"sessiondesk/app/bind"
	"sessiondesk/backend/demo"
)

// Demo account the app signs in with in demo mode (the demo seed's, see
// backend/seed).
const (
	demoOrg      = "acme"
	demoEmail    = "admin@acme.test"
	demoPassword = "demo-password"
)

func (a *app) demoPlatform() *demo.Platform {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.demoP
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

// startDemoPlatform starts the embedded platform and points the sign-in
// form at it; false when it did not start.
func (a *app) startDemoPlatform() bool {
	// The embedded platform logs every request at Info; in the app's
	// log only its warnings and errors are worth a line.
	platformLog := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("component", "demo-platform")
	p, err := demo.Start(a.bg, a.dirs.demoDB, platformLog)
	if err != nil {
		a.log.Error("demo platform did not start; sign in to a platform instead", "err", err)
		return false
	}
	a.mu.Lock()
	a.demoP = p
	a.mu.Unlock()
	a.desk.SetDemoServer(p.URL())
	a.log.Info("demo platform started", "url", p.URL(), "db", a.dirs.demoDB)
	return true
}

// startDemo signs in as the demo account (unless signed in to the demo
// already) and starts the simulated new-device sign-ins.
func (a *app) startDemo() {
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
