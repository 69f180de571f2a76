package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/internal/faultproxy"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/platformd"
)

// Fault rows: the app's full sync through a real fault-injecting proxy
// (app/internal/faultproxy) in front of the same platformd, once clean,
// once with 5% of the answers reset in the middle of their body, once over
// a slow link. The clean run goes through the proxy too, so the ratio shows
// what the faults cost and not what the proxy does.
const (
	faultResetRate = 0.05
	slowLinkBytes  = 256 << 10 // bytes per second
	// shortLinkBytes is the link of the -short run: the rows are checked
	// there, not timed, and the test command must stay quick.
	shortLinkBytes = 4 << 20
)

// faultSync is one full sync of a new profile through the proxy, repeated
// from where it stopped (the syncer resumes) until it completes.
type faultSync struct {
	took     time.Duration
	attempts int
	rows     int
}

func syncThrough(ctx context.Context, fp *faultproxy.Proxy, token, dir, profile string, key []byte) (faultSync, error) {
	var out faultSync
	c, err := platformd.New(fp.URL(), httpx.Options{})
	if err != nil {
		return out, err
	}
	defer c.CloseIdleConnections()
	prof, err := openProfile(ctx, c.WithToken(token), dir, profile, key)
	if err != nil {
		return out, err
	}
	defer prof.close()
	start := time.Now()
	for {
		out.attempts++
		_, err := prof.sync.SyncNow(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil || out.attempts >= 100 || !domain.IsUnreachable(err) {
			return out, fmt.Errorf("full sync through faults, attempt %d: %w", out.attempts, err)
		}
	}
	out.took = time.Since(start)
	out.rows = prof.sessions.Len() + prof.devices.Len()
	return out, nil
}

// benchFaults measures the "faults" rows; short shrinks the slow link.
func benchFaults(ctx context.Context, cfg config, p *platformProc, dir string, short bool) ([]row, error) {
	raw := newAPIClient(p.URL, 2)
	login, err := raw.login(ctx, cfg.slug, "admin@"+cfg.slug+".test")
	if err != nil {
		return nil, err
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	fp, err := faultproxy.Start(p.URL, faultproxy.Faults{})
	if err != nil {
		return nil, err
	}
	defer fp.Close()

	// Clean and reset syncs alternate, so that whatever else the machine
	// does weighs on both alike; the rows compare their medians.
	runs := max(cfg.runs, 3)
	if short {
		runs = 1
	}
	var cleans, resets []time.Duration
	var clean, reset faultSync
	var resetAnswers int64
	attempts := 0
	for i := range runs {
		fmt.Fprintf(os.Stderr, "faults: clean full sync through the proxy (%d of %d)…\n", i+1, runs)
		fp.Set(faultproxy.Faults{})
		if clean, err = syncThrough(ctx, fp, login.Token, dir, fmt.Sprintf("faults-clean-%d", i), key); err != nil {
			return nil, err
		}
		cleans = append(cleans, clean.took)

		fmt.Fprintf(os.Stderr, "faults: full sync with 5%% of answers reset mid-body (%d of %d)…\n", i+1, runs)
		fp.Set(faultproxy.Faults{ResetRate: faultResetRate})
		fp.Seed(uint64(time.Now().UnixNano()))
		before := fp.Resets.Load()
		if reset, err = syncThrough(ctx, fp, login.Token, dir, fmt.Sprintf("faults-reset-%d", i), key); err != nil {
			return nil, err
		}
		resets = append(resets, reset.took)
		resetAnswers += fp.Resets.Load() - before
		attempts += reset.attempts
		if reset.rows != clean.rows {
			return nil, fmt.Errorf("sync through resets holds %d rows, the clean one %d", reset.rows, clean.rows)
		}
	}
	c, r := median(cleans), median(resets)
	ratio := float64(r) / float64(c)
	rows := []row{
		{"faults", fmt.Sprintf("full sync through the proxy, no faults (%d rows)", clean.rows), ms(c), "", fmt.Sprintf("median of %d; reference for the rows below", runs)},
		{"faults", "full sync, 5% of answers reset mid-body", ms(r), "≤ 2× clean",
			fmt.Sprintf("median of %d: %.2f× clean; %d answers reset, %d sync attempt(s) in all", runs, ratio, resetAnswers, attempts)},
	}

	link := slowLinkBytes
	if short {
		link = shortLinkBytes
	}
	fmt.Fprintf(os.Stderr, "faults: full sync over a %d KB/s link…\n", link>>10)
	fp.Set(faultproxy.Faults{BytesPerSec: link})
	slow, err := syncThrough(ctx, fp, login.Token, dir, "faults-slow", key)
	if err != nil {
		return rows, err
	}
	if slow.rows != clean.rows {
		return rows, fmt.Errorf("sync over the slow link holds %d rows, the clean one %d", slow.rows, clean.rows)
	}
	rows = append(rows, row{"faults", fmt.Sprintf("full sync over a %d KB/s link", link>>10), ms(slow.took), "completes",
		fmt.Sprintf("%d sync attempt(s)", slow.attempts)})
	if !short && ratio > 2 {
		return rows, fmt.Errorf("faults: sync through resets took %.2f× the clean sync (target ≤ 2×)", ratio)
	}
	return rows, nil
}
