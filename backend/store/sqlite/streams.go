package sqlite

import (
	"context"
	"fmt"
	"time"

	"sessiondesk/backend/store"
)

// expiredLeaseBatch bounds the expired leases one AcquireStream deletes
// (see the PostgreSQL store).
const expiredLeaseBatch = 100

// AcquireStream counts and stores a stream lease in one step (see
// store.Store). The IMMEDIATE write transaction holds SQLite's one write
// lock from its first statement, so the count and the insert are one step
// for every process on the file.
func (d *DB) AcquireStream(ctx context.Context, l store.StreamLease, caps store.StreamCaps, now, expires time.Time) (string, error) {
	var full string
	err := d.write(ctx, func(w *writeTx) error {
		full = ""
		if _, err := w.ExecContext(ctx, `DELETE FROM stream_leases WHERE id IN (
			SELECT id FROM stream_leases WHERE expires_at <= ? LIMIT ?)`, nanos(now), expiredLeaseBatch); err != nil {
			return err
		}
		var inSession, inUser, inOrg int
		if err := w.QueryRowContext(ctx, `SELECT COALESCE(SUM(session_id = ?), 0), COALESCE(SUM(user_id = ?), 0), COUNT(*)
			FROM stream_leases WHERE org_id = ? AND expires_at > ?`, l.SessionID, l.UserID, l.OrgID, nanos(now)).
			Scan(&inSession, &inUser, &inOrg); err != nil {
			return err
		}
		if full = store.FullStreamCap(caps, inSession, inUser, inOrg); full != "" {
			return nil
		}
		_, err := w.ExecContext(ctx, `INSERT INTO stream_leases (id, org_id, session_id, user_id, expires_at) VALUES (?, ?, ?, ?, ?)`,
			l.ID, l.OrgID, l.SessionID, l.UserID, nanos(expires))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("sqlite: acquire stream: %w", err)
	}
	return full, nil
}

// RenewStreams renews (or stores again) a process's leases in one
// transaction (see store.Store).
func (d *DB) RenewStreams(ctx context.Context, ls []store.StreamLease, expires time.Time) error {
	if len(ls) == 0 {
		return nil
	}
	err := d.write(ctx, func(w *writeTx) error {
		st, err := w.PrepareContext(ctx, `INSERT INTO stream_leases (id, org_id, session_id, user_id, expires_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, l := range ls {
			if _, err := st.ExecContext(ctx, l.ID, l.OrgID, l.SessionID, l.UserID, nanos(expires)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: renew streams: %w", err)
	}
	return nil
}

// ReleaseStream deletes a lease (see store.Store).
func (d *DB) ReleaseStream(ctx context.Context, id string) error {
	err := d.write(ctx, func(w *writeTx) error {
		_, err := w.ExecContext(ctx, `DELETE FROM stream_leases WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: release stream: %w", err)
	}
	return nil
}
