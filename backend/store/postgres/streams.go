package postgres

import (
	"context"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"sessiondesk/backend/store"
)

// expiredLeaseBatch bounds the expired leases one AcquireStream deletes, so
// that opening a stream costs the same after a crash of a replica that held
// thousands: the next acquisitions take the rest.
const expiredLeaseBatch = 100

// AcquireStream counts and stores a stream lease in one step (see
// store.Store). A transaction-level advisory lock on the organization
// serializes the acquisitions of every replica for that organization (the
// session's and the user's caps are inside their organization's, so one
// lock covers all three);
// under READ COMMITTED the count, a statement after the lock, sees the
// lease of the transaction that held it before. Organizations do not wait
// for each other, and nothing else takes the lock.
//
// Expired leases are deleted with SKIP LOCKED: a row another transaction
// holds is being renewed (its stream is alive after all) or deleted by
// another acquisition, so this one never waits for it and never takes part
// in a deadlock.
func (d *DB) AcquireStream(ctx context.Context, l store.StreamLease, caps store.StreamCaps, now, expires time.Time) (string, error) {
	var full string
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		full = ""
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('stream:' || $1, 0))`, l.OrgID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM stream_leases WHERE id IN (
			SELECT id FROM stream_leases WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
			nanos(now), expiredLeaseBatch); err != nil {
			return err
		}
		var inSession, inUser, inOrg int
		if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE session_id = $2), count(*) FILTER (WHERE user_id = $3),
			count(*) FROM stream_leases WHERE org_id = $1 AND expires_at > $4`, l.OrgID, l.SessionID, l.UserID, nanos(now)).
			Scan(&inSession, &inUser, &inOrg); err != nil {
			return err
		}
		if full = store.FullStreamCap(caps, inSession, inUser, inOrg); full != "" {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO stream_leases (id, org_id, session_id, user_id, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			l.ID, l.OrgID, l.SessionID, l.UserID, nanos(expires))
		return err
	})
	if err != nil {
		return "", wrap("acquire stream", err)
	}
	return full, nil
}

// RenewStreams renews (or stores again) a process's leases in one
// statement (see store.Store). It takes no advisory lock: a lease it stores
// again stands for a stream that is open, which the caps must count even
// when that puts them over. The rows are written in ID order, so two
// renewals could never wait for each other in a cycle (they never share
// rows anyway: each process renews its own).
func (d *DB) RenewStreams(ctx context.Context, ls []store.StreamLease, expires time.Time) error {
	if len(ls) == 0 {
		return nil
	}
	sorted := append([]store.StreamLease(nil), ls...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	ids := make([]string, len(sorted))
	orgs := make([]string, len(sorted))
	sessions := make([]string, len(sorted))
	users := make([]string, len(sorted))
	for i, l := range sorted {
		ids[i], orgs[i], sessions[i], users[i] = l.ID, l.OrgID, l.SessionID, l.UserID
	}
	_, err := d.pool.Exec(ctx, `INSERT INTO stream_leases (id, org_id, session_id, user_id, expires_at)
		SELECT id, org_id, session_id, user_id, $5
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(id, org_id, session_id, user_id)
		ORDER BY id
		ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at`, ids, orgs, sessions, users, nanos(expires))
	return wrap("renew streams", err)
}

// ReleaseStream deletes a lease (see store.Store).
func (d *DB) ReleaseStream(ctx context.Context, id string) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM stream_leases WHERE id = $1`, id)
	return wrap("release stream", err)
}
