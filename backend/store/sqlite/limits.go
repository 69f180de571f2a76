package sqlite

import (
	"context"
	"fmt"
	"time"

	"sessiondesk/backend/store"
)

// endSessionsOverCap ends, inside a sign-in's transaction, the user's
// least recently active sessions beyond the max-1 most recently active
// ones, so that with the session the sign-in adds the user holds at most
// max (see store.Store.SignIn). Each is audited on its own, like an end by
// hand, with the system actor (no actor user, terminated_by NULL). The
// IMMEDIATE transaction holds SQLite's one write lock, so two sign-ins
// cannot both count before either has added its session.
func endSessionsOverCap(w *writeTx, orgID, userID string, ts int64, max int, reason string) error {
	if max <= 0 {
		return nil
	}
	rows, err := w.QueryContext(w.ctx, `SELECT id, client, ip FROM sessions
		WHERE org_id = ? AND user_id = ? AND terminated_at IS NULL AND expires_at > ?
		ORDER BY last_active_at DESC, id DESC LIMIT -1 OFFSET ?`, orgID, userID, ts, max-1)
	over, err := collect(rows, err, 0, func(sc scanner) (auditTarget, error) {
		var id, client, ip string
		err := sc.Scan(&id, &client, &ip)
		return auditTarget{ID: id, UserID: userID, Label: store.SessionLabel(client, ip)}, err
	})
	if err != nil {
		return fmt.Errorf("sessions over the cap: %w", err)
	}
	system := store.Actor{Reason: reason}
	for _, target := range over {
		if _, err := w.ExecContext(w.ctx, `UPDATE sessions SET terminated_at = ?, terminated_by = NULL, updated_at = ?
			WHERE id = ?`, ts, ts, target.ID); err != nil {
			return fmt.Errorf("end a session over the cap: %w", err)
		}
		if err := insertAudit(w, orgID, ts, system, store.ActionSessionTerminate, target, 1); err != nil {
			return err
		}
	}
	return nil
}

// DeleteStaleDevices deletes at most limit untrusted devices unseen and
// unchanged since unseenBefore that no session refers to (see
// store.Store). It stamps nothing. A sign-in from a device also sets its
// updated_at, so updated_at < horizon implies last_seen_at < horizon, and
// the index (org_id, updated_at, id) finds the candidates, organization by
// organization, like DeleteEndedSessions; the sessions_device index answers
// whether a session still refers to one.
func (d *DB) DeleteStaleDevices(ctx context.Context, unseenBefore time.Time, limit int) (int, error) {
	t := nanos(unseenBefore)
	return d.deleteRows(ctx, "delete stale devices", `DELETE FROM devices WHERE id IN (
		SELECT d.id FROM orgs o JOIN devices d ON d.org_id = o.id AND d.updated_at < ?
		WHERE d.last_seen_at < ? AND d.trusted_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.device_id = d.id) LIMIT ?)`, t, t, limit)
}
