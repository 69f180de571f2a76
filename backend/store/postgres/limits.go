package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sessiondesk/backend/store"
)

// endSessionsOverCap ends, inside a sign-in's transaction, the user's least
// recently active sessions beyond the max-1 most recently active ones, so
// that with the session the sign-in adds the user holds at most max (see
// store.Store.SignIn), each audited on its own with the system actor.
//
// No lock of its own: the sign-in took the write clock first, and that row
// lock, held to its commit, serializes every stamping write of every
// replica (see the package comment). Under READ COMMITTED this count, a
// statement after the lock, sees the sessions of every sign-in that held
// it before, so two sign-ins of one user never both count before either
// has added its session.
func endSessionsOverCap(w *writeTx, orgID, userID string, ts int64, max int, reason string) error {
	if max <= 0 {
		return nil
	}
	rows, err := w.Query(w.ctx, `SELECT s.id, s.client, s.ip FROM session_keys k JOIN sessions s ON s.id = k.id
		WHERE k.org_id = $1 AND k.user_id = $2 AND s.terminated_at IS NULL AND s.expires_at > $3
		ORDER BY s.last_active_at DESC, s.id DESC OFFSET $4`, orgID, userID, ts, max-1)
	if err != nil {
		return fmt.Errorf("sessions over the cap: %w", err)
	}
	over, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auditTarget, error) {
		var id, client, ip string
		err := r.Scan(&id, &client, &ip)
		return auditTarget{ID: id, UserID: userID, Label: store.SessionLabel(client, ip)}, err
	})
	if err != nil {
		return fmt.Errorf("sessions over the cap: %w", err)
	}
	if len(over) == 0 {
		return nil
	}
	ids := make([]string, len(over))
	for i, target := range over {
		ids[i] = target.ID
	}
	if _, err := w.Exec(w.ctx, `UPDATE sessions SET terminated_at = $1, terminated_by = NULL, updated_at = $1
		WHERE id = ANY($2)`, ts, ids); err != nil {
		return fmt.Errorf("end sessions over the cap: %w", err)
	}
	system := store.Actor{Reason: reason}
	for _, target := range over {
		if err := insertAudit(w, orgID, ts, system, store.ActionSessionTerminate, target, 1); err != nil {
			return err
		}
	}
	return nil
}

// DeleteStaleDevices deletes at most limit untrusted devices unseen and
// unchanged since unseenBefore that no session refers to (see
// store.Store). It stamps nothing, so it takes no clock.
//
// A sign-in from a device also sets its updated_at, so updated_at < horizon
// implies last_seen_at < horizon, and the feed index (org_id, updated_at,
// id) finds the candidates, organization by organization, like
// DeleteEndedSessions; session_keys_device answers whether a session still
// refers to one. The candidates are locked with SKIP LOCKED: a device a
// sign-in is refreshing right now is skipped rather than waited for (and
// once that commits it is no longer stale), and two replicas' passes never
// wait for each other.
func (d *DB) DeleteStaleDevices(ctx context.Context, unseenBefore time.Time, limit int) (int, error) {
	return d.deletePerOrg(ctx, "delete stale devices", `DELETE FROM devices WHERE id IN (SELECT d.id FROM devices d
		WHERE d.org_id = $1 AND d.updated_at < $2 AND d.last_seen_at < $2 AND d.trusted_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM session_keys k WHERE k.device_id = d.id)
		LIMIT $3 FOR UPDATE OF d SKIP LOCKED)`, unseenBefore, limit)
}
