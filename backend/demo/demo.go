// Package demo embeds the platform in the desktop app for demo mode: a
// SQLite file seeded with the demo organizations on first start, served on a
// loopback port that only this machine can reach.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"slices"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/seed"
	"sessiondesk/backend/server"
	"sessiondesk/backend/store"
	"sessiondesk/backend/store/sqlite"
)

// Platform is the embedded platform.
type Platform struct {
	store *sqlite.DB
	srv   *http.Server
	url   string
	log   *slog.Logger
	done  chan struct{}
}

// Start opens (or creates, mode 0600) the SQLite file at dbPath, seeds the
// demo data when the database is empty, and serves the API on 127.0.0.1 on a
// free port.
func Start(ctx context.Context, dbPath string, log *slog.Logger) (*Platform, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	empty, err := db.IsEmpty(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	if empty {
		st, err := seed.Demo(ctx, db, time.Now())
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("demo: %w", err)
		}
		log.Info("demo platform seeded", "users", st.Users, "sessions", st.Sessions, "devices", st.Devices)
		if err := recordHistory(ctx, db, time.Now()); err != nil {
			db.Close()
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	h, err := server.New(server.Config{Store: db, Logger: log})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("demo: listen: %w", err)
	}
	p := &Platform{
		store: db,
		srv:   &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		url:   "http://" + ln.Addr().String(),
		log:   log,
		done:  make(chan struct{}),
	}
	go func() {
		defer close(p.done)
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("demo platform stopped serving", "err", err)
		}
	}()
	log.Info("demo platform listening", "url", p.url)
	return p, nil
}

// history is what a security admin of the demo organization has already done
// when the app first opens, so that the Audit log tab shows what it is for.
var history = [...]struct {
	session bool // a session to terminate; else a trusted device to untrust
	pick    int  // which of the candidates, newest first
	reason  string
}{
	{true, 5, "Sign-in from a country the user has never worked from; user confirmed it was not them"},
	{false, 0, "Laptop reported lost (ticket SEC-1042)"},
	{true, 11, "Shared ward workstation left signed in overnight"},
}

// recordHistory performs the history as admin@acme.test through the store's
// own audited actions, so the events are exactly what real ones look like.
func recordHistory(ctx context.Context, st store.Store, now time.Time) error {
	org, err := st.OrgBySlug(ctx, "acme")
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	admin, err := st.UserByEmail(ctx, org.ID, "admin@acme.test")
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	sessions, err := st.ListSessions(ctx, org.ID, store.SessionFilter{ActiveOnly: true, Now: now, Limit: 50})
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	trusted := true
	devices, err := st.ListDevices(ctx, org.ID, store.DeviceFilter{Trusted: &trusted, Limit: 10})
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	// Never the named demo users' own sessions: they are what people sign in
	// with to try the app.
	named := []string{"admin@acme.test", "auditor@acme.test", "member@acme.test", "mfa@acme.test"}
	var others []store.Session
	for _, s := range sessions.Items {
		if !slices.Contains(named, s.User.Email) {
			others = append(others, s)
		}
	}
	for _, h := range history {
		by := store.Actor{UserID: admin.ID, Reason: h.reason}
		switch {
		case h.session && h.pick < len(others):
			_, err = st.TerminateSession(ctx, org.ID, others[h.pick].ID, by)
		case !h.session && h.pick < len(devices.Items):
			_, err = st.UntrustDevice(ctx, org.ID, devices.Items[h.pick].ID, by)
		}
		if err != nil {
			return fmt.Errorf("history: %w", err)
		}
	}
	return nil
}

// URL is the base URL ("http://127.0.0.1:PORT", no trailing slash).
func (p *Platform) URL() string { return p.url }

// simulatedUserAgents are the browsers a simulated sign-in claims to be.
var simulatedUserAgents = [...]string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
}

// SimulateNewDeviceSignIn makes a random seeded acme user (one without TOTP)
// sign in from a brand-new device through the real login endpoint, creating
// a new device record and a new session — what the app's new-device
// notification reacts to.
func (p *Platform) SimulateNewDeviceSignIn(ctx context.Context) error {
	org, err := p.store.OrgBySlug(ctx, "acme")
	if err != nil {
		return fmt.Errorf("demo: simulate sign-in: %w", err)
	}
	users, err := p.store.ListUsers(ctx, org.ID)
	if err != nil {
		return fmt.Errorf("demo: simulate sign-in: %w", err)
	}
	var candidates []store.User
	for _, u := range users {
		if !u.HasTOTP() {
			candidates = append(candidates, u)
		}
	}
	if len(candidates) == 0 {
		return errors.New("demo: simulate sign-in: acme has no user without TOTP")
	}
	u := candidates[mrand.IntN(len(candidates))]
	body, err := json.Marshal(api.LoginRequest{Org: "acme", Email: u.Email, Password: seed.DemoPassword})
	if err != nil {
		return fmt.Errorf("demo: simulate sign-in: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+api.BasePath+"/auth/login", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("demo: simulate sign-in: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", simulatedUserAgents[mrand.IntN(len(simulatedUserAgents))])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("demo: simulate sign-in: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("demo: simulate sign-in of %s: %s", u.Email, res.Status)
	}
	p.log.Info("demo: simulated a sign-in from a new device", "user_id", u.ID)
	return nil
}

// Close stops serving, waiting for in-flight requests until ctx ends, and
// closes the database.
func (p *Platform) Close(ctx context.Context) error {
	err := p.srv.Shutdown(ctx)
	<-p.done
	if cerr := p.store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("demo: close: %w", err)
	}
	return nil
}
