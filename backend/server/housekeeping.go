package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// DefaultRetention is how long ended sessions are kept by default.
const DefaultRetention = 30 * 24 * time.Hour

// HousekeepingConfig configures Housekeep and RunHousekeeping.
type HousekeepingConfig struct {
	Store store.Store
	Log   *slog.Logger     // nil discards
	Clock func() time.Time // nil means time.Now
	// Retention keeps sessions this long after they ended (terminated, or
	// expired); 0 means DefaultRetention. A delta-feed client that synced
	// within it has seen every deleted session end, so its view stays
	// right; the audit log is never deleted.
	Retention time.Duration
	// RetainDevices keeps an untrusted device this long after it was last
	// seen or changed (0: api.DefaultRetainDevices); a trusted device, or
	// one a session still refers to, is kept whatever its age. Without it
	// every sign-in without a device ID added a device for good.
	RetainDevices time.Duration
	// Batch is the most rows one statement deletes (0: 500), and Pause
	// the rest between batches (0: none), so housekeeping never holds the
	// database for long and requests go first.
	Batch int
	Pause time.Duration
	// Interval between passes of RunHousekeeping (0: 10 minutes).
	Interval time.Duration
	// AttemptWindow: throttle marks older than this are deleted (0: one
	// day, longer than any sensible sign-in window).
	AttemptWindow time.Duration
}

func (c *HousekeepingConfig) defaults() {
	discardIfNil(&c.Log)
	nowIfNil(&c.Clock)
	orDefault(&c.Retention, DefaultRetention)
	orDefault(&c.RetainDevices, api.DefaultRetainDevices)
	orDefault(&c.Batch, 500)
	orDefault(&c.Interval, 10*time.Minute)
	orDefault(&c.AttemptWindow, 24*time.Hour)
}

// Swept is what one housekeeping pass deleted.
type Swept struct {
	Sessions int // ended more than Retention ago
	Devices  int // untrusted and unseen for RetainDevices
}

// Housekeep runs one pass: it deletes sessions that ended more than
// Retention ago, then the untrusted devices unseen for RetainDevices that no
// session refers to any more, Batch at a time until none is left, and old
// throttle marks.
func Housekeep(ctx context.Context, cfg HousekeepingConfig) (Swept, error) {
	cfg.defaults()
	var swept Swept
	var err error
	now := cfg.Clock()
	swept.Sessions, err = inBatches(ctx, cfg, func(limit int) (int, error) {
		return cfg.Store.DeleteEndedSessions(ctx, now.Add(-cfg.Retention), limit)
	})
	if err != nil {
		return swept, err
	}
	swept.Devices, err = inBatches(ctx, cfg, func(limit int) (int, error) {
		return cfg.Store.DeleteStaleDevices(ctx, now.Add(-cfg.RetainDevices), limit)
	})
	if err != nil {
		return swept, err
	}
	if _, err := cfg.Store.PruneAttempts(ctx, now.Add(-cfg.AttemptWindow)); err != nil {
		return swept, fmt.Errorf("housekeeping: %w", err)
	}
	return swept, nil
}

// inBatches calls del with cfg.Batch, pausing between calls, until a call
// deletes fewer; it returns how many were deleted.
func inBatches(ctx context.Context, cfg HousekeepingConfig, del func(limit int) (int, error)) (int, error) {
	total := 0
	for {
		n, err := del(cfg.Batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("housekeeping: %w", err)
		}
		if n < cfg.Batch {
			return total, nil
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(cfg.Pause):
		}
	}
}

// RunHousekeeping runs Housekeep now and then every Interval until ctx
// ends, off the request path. Every replica may run it: concurrent passes
// delete disjoint or already deleted rows. Failures are logged and retried
// at the next pass.
func RunHousekeeping(ctx context.Context, cfg HousekeepingConfig) {
	cfg.defaults()
	for {
		n, err := Housekeep(ctx, cfg)
		switch {
		case err != nil && ctx.Err() == nil:
			cfg.Log.Warn("housekeeping failed; retrying at the next pass", "err", err, "sessions", n.Sessions, "devices", n.Devices)
		case n.Sessions > 0 || n.Devices > 0:
			cfg.Log.Info("housekeeping deleted ended sessions and stale devices", "sessions", n.Sessions, "retention", cfg.Retention.String(),
				"devices", n.Devices, "retain_devices", cfg.RetainDevices.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(cfg.Interval):
		}
	}
}
