package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// Ending sessions: one, a person's, chosen ones, all of an organization's, or
// a user's on a credential change — each audited in the same transaction.

// resetCredential runs the credential update and, in the same transaction,
// ends the user's active sessions (terminated_by the actor, NULL for the
// command line), untrusts the user's trusted devices (forgetting their
// secrets) and records one audit event (target the user, count the sessions
// ended), so an old password, TOTP secret or device secret cannot outlive
// the change.
func (d *DB) resetCredential(ctx context.Context, op, action, userID string, by store.Actor, query string, args ...any) (store.Revocation, error) {
	var rv store.Revocation
	err := d.write(ctx, func(w *writeTx) error {
		var orgID string
		err := w.QueryRowContext(ctx, `SELECT org_id FROM users WHERE id = ?`, userID).Scan(&orgID)
		if errors.Is(err, sql.ErrNoRows) {
			return store.Errorf(store.ENotFound, "user not found")
		}
		if err != nil {
			return err
		}
		if _, err := w.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		ts, err := w.now()
		if err != nil {
			return err
		}
		n, err := w.count(`UPDATE sessions SET terminated_at = ?, terminated_by = ?, updated_at = ?
			WHERE user_id = ? AND terminated_at IS NULL AND expires_at > ?`, ts, nullString(by.UserID), ts, userID, ts)
		if err != nil {
			return err
		}
		rv.Sessions = int(n)
		n, err = w.count(`UPDATE devices SET trusted_at = NULL, trust_secret_hash = NULL, updated_at = ?
			WHERE user_id = ? AND (trusted_at IS NOT NULL OR trust_secret_hash IS NOT NULL)`, ts, userID)
		if err != nil {
			return err
		}
		rv.Devices = int(n)
		return insertAudit(w, orgID, ts, by, action, auditTarget{ID: userID, UserID: userID}, rv.Sessions)
	})
	if err != nil {
		return store.Revocation{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return rv, nil
}

// auditTarget is what an audit event names as its target: the row's ID (""
// for actions without one), whose it was ("" for several people), a label
// for people, and the sessions a bulk end ended.
type auditTarget struct {
	ID, UserID, Label string
	IDs               []string
}

// insertAudit records an audit event; an Actor without UserID is the command
// line (actor_id NULL).
func insertAudit(w *writeTx, orgID string, ts int64, by store.Actor, action string, target auditTarget, count int) error {
	ids := []byte("[]")
	if len(target.IDs) > 0 {
		var err error
		if ids, err = json.Marshal(target.IDs); err != nil {
			return fmt.Errorf("insert audit event: %w", err)
		}
	}
	_, err := w.ExecContext(w.ctx, `INSERT INTO audit_events (id, org_id, at, actor_id, action, target_id, target_user_id,
		target_label, target_ids, count, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, store.NewID(store.PrefixAudit), orgID, ts,
		nullString(by.UserID), action, nullString(target.ID), nullString(target.UserID), target.Label, string(ids), count, by.Reason)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	return nil
}

const endedIDsQuery = `SELECT id FROM sessions WHERE org_id = ? AND updated_at = ? ORDER BY id LIMIT ?`

// endedIDs are the first api.MaxTargetIDs (in ID order) of the sessions of
// the organization this transaction stamped with ts: the transaction's
// timestamp is its own (the write clock hands each one out once), so after
// a bulk end's UPDATE these are exactly the sessions it ended. The feed
// index (org_id, updated_at, id) gives them without visiting the others, so
// a terminate-all of 100,000 reads 1,000 index entries, not 100,000 rows.
func endedIDs(w *writeTx, orgID string, ts int64) ([]string, error) {
	rows, err := w.QueryContext(w.ctx, endedIDsQuery, orgID, ts, api.MaxTargetIDs)
	ids, err := collect(rows, err, 16, scanString)
	if err != nil {
		return nil, fmt.Errorf("ended sessions: %w", err)
	}
	return ids, nil
}

// auditBulkEnd records the audit event of a bulk end that ended n sessions
// at ts, naming them; one that ended nothing records nothing (see
// store.Store).
func auditBulkEnd(w *writeTx, orgID string, ts int64, by store.Actor, action string, target auditTarget, n int) error {
	if n == 0 {
		return nil
	}
	ids, err := endedIDs(w, orgID, ts)
	if err != nil {
		return err
	}
	target.IDs = ids
	return insertAudit(w, orgID, ts, by, action, target, n)
}

// TerminateSession ends one session and audits it in the same transaction.
func (d *DB) TerminateSession(ctx context.Context, orgID, id string, by store.Actor) (store.Session, error) {
	var s store.Session
	err := d.write(ctx, func(w *writeTx) error {
		var terminated sql.NullInt64
		var userID, client, ip string
		err := w.QueryRowContext(ctx, `SELECT terminated_at, user_id, client, ip FROM sessions WHERE id = ? AND org_id = ?`,
			id, orgID).Scan(&terminated, &userID, &client, &ip)
		if errors.Is(err, sql.ErrNoRows) {
			return store.Errorf(store.ENotFound, "session not found")
		}
		if err != nil {
			return err
		}
		if !terminated.Valid {
			ts, err := w.now()
			if err != nil {
				return err
			}
			if _, err := w.ExecContext(ctx, `UPDATE sessions SET terminated_at = ?, terminated_by = ?, updated_at = ? WHERE id = ?`,
				ts, by.UserID, ts, id); err != nil {
				return err
			}
			target := auditTarget{ID: id, UserID: userID, Label: store.SessionLabel(client, ip)}
			if err := insertAudit(w, orgID, ts, by, store.ActionSessionTerminate, target, 1); err != nil {
				return err
			}
		}
		s, err = getSession(ctx, w, orgID, id)
		return err
	})
	if err != nil {
		return s, fmt.Errorf("sqlite: terminate session: %w", err)
	}
	return s, nil
}

// TerminateAll ends every active session of the organization but one, with a
// single UPDATE and one audit row.
func (d *DB) TerminateAll(ctx context.Context, orgID, keepSessionID string, by store.Actor) (int, error) {
	var n int64
	err := d.write(ctx, func(w *writeTx) error {
		ts, err := w.now()
		if err != nil {
			return err
		}
		n, err = w.count(`UPDATE sessions SET terminated_at = ?, terminated_by = ?, updated_at = ?
			WHERE org_id = ? AND terminated_at IS NULL AND expires_at > ? AND id <> ?`,
			ts, by.UserID, ts, orgID, ts, keepSessionID)
		if err != nil {
			return err
		}
		return auditBulkEnd(w, orgID, ts, by, store.ActionSessionsTerminateAll, auditTarget{}, int(n))
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: terminate all: %w", err)
	}
	return int(n), nil
}

// TerminateUserSessions ends one user's active sessions but one, with a
// single UPDATE (on the sessions_org_user index) and one audit row.
func (d *DB) TerminateUserSessions(ctx context.Context, orgID, userID, keepSessionID string, by store.Actor) (int, error) {
	var n int64
	err := d.write(ctx, func(w *writeTx) error {
		var found int
		err := w.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ? AND org_id = ?`, userID, orgID).Scan(&found)
		if errors.Is(err, sql.ErrNoRows) {
			return store.Errorf(store.ENotFound, "user not found")
		}
		if err != nil {
			return err
		}
		ts, err := w.now()
		if err != nil {
			return err
		}
		n, err = w.count(`UPDATE sessions SET terminated_at = ?, terminated_by = ?, updated_at = ?
			WHERE org_id = ? AND user_id = ? AND terminated_at IS NULL AND expires_at > ? AND id <> ?`,
			ts, by.UserID, ts, orgID, userID, ts, keepSessionID)
		if err != nil {
			return err
		}
		return auditBulkEnd(w, orgID, ts, by, store.ActionUserSessionsTerminate, auditTarget{ID: userID, UserID: userID}, int(n))
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: terminate user sessions: %w", err)
	}
	return int(n), nil
}

// TerminateSessions ends the listed sessions of the organization with one
// SELECT and one UPDATE over the ID list, and one audit row.
func (d *DB) TerminateSessions(ctx context.Context, orgID string, ids []string, by store.Actor) (store.Selected, error) {
	var out store.Selected
	uniq := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	out.NotFound = []string{}
	if len(uniq) == 0 {
		return out, nil
	}
	in := "?" + strings.Repeat(", ?", len(uniq)-1)
	err := d.write(ctx, func(w *writeTx) error {
		ts, err := w.now()
		if err != nil {
			return err
		}
		args := make([]any, 0, len(uniq)+2)
		args = append(args, orgID)
		for _, id := range uniq {
			args = append(args, id)
		}
		rows, err := w.QueryContext(ctx, `SELECT id, user_id, terminated_at IS NULL AND expires_at > ? FROM sessions
			WHERE org_id = ? AND id IN (`+in+`)`, append([]any{ts}, args...)...)
		if err != nil {
			return err
		}
		found := make(map[string]bool, len(uniq))
		users := map[string]bool{}
		var userID string
		for rows.Next() {
			var id, uid string
			var active bool
			if err := rows.Scan(&id, &uid, &active); err != nil {
				rows.Close()
				return err
			}
			found[id] = true
			if active {
				users[uid] = true
				userID = uid
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range uniq {
			if !found[id] {
				out.NotFound = append(out.NotFound, id)
			}
		}
		n, err := w.count(`UPDATE sessions SET terminated_at = ?, terminated_by = ?, updated_at = ?
			WHERE org_id = ? AND id IN (`+in+`) AND terminated_at IS NULL AND expires_at > ?`,
			append(append([]any{ts, by.UserID, ts}, args...), ts)...)
		if err != nil {
			return err
		}
		out.Terminated = int(n)
		// The event names a person only when every ended session was theirs.
		var target auditTarget
		if len(users) == 1 {
			target.UserID = userID
		}
		return auditBulkEnd(w, orgID, ts, by, store.ActionSessionsTerminateSelected, target, out.Terminated)
	})
	if err != nil {
		return store.Selected{}, fmt.Errorf("sqlite: terminate sessions: %w", err)
	}
	return out, nil
}
