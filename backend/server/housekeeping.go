package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

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
	// Batch is the most sessions one statement deletes (0: 500), and Pause
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
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.Batch <= 0 {
		c.Batch = 500
	}
	if c.Interval <= 0 {
		c.Interval = 10 * time.Minute
	}
	if c.AttemptWindow <= 0 {
		c.AttemptWindow = 24 * time.Hour
	}
}

// Housekeep runs one pass: it deletes sessions that ended more than
// Retention ago, Batch at a time until none is left, and old throttle
// marks. It returns the number of sessions deleted.
func Housekeep(ctx context.Context, cfg HousekeepingConfig) (int, error) {
	cfg.defaults()
	horizon := cfg.Clock().Add(-cfg.Retention)
	total := 0
	for {
		n, err := cfg.Store.DeleteEndedSessions(ctx, horizon, cfg.Batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("housekeeping: %w", err)
		}
		if n < cfg.Batch {
			break
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(cfg.Pause):
		}
	}
	if _, err := cfg.Store.PruneAttempts(ctx, cfg.Clock().Add(-cfg.AttemptWindow)); err != nil {
		return total, fmt.Errorf("housekeeping: %w", err)
	}
	return total, nil
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
			cfg.Log.Warn("housekeeping failed; retrying at the next pass", "err", err, "deleted", n)
		case n > 0:
			cfg.Log.Info("housekeeping deleted ended sessions", "sessions", n, "retention", cfg.Retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(cfg.Interval):
		}
	}
}
