package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// Ending sessions: one, a person's, chosen ones, all of an organization's, or
// a user's on a credential change — each audited in the same transaction.

// resetCredential: see the SQLite store; the clock is taken first (lock
// order, see the package comment).
func (d *DB) resetCredential(ctx context.Context, op, action, userID string, by store.Actor, query string, qargs ...any) (store.Revocation, error) {
	var rv store.Revocation
	err := d.write(ctx, func(w *writeTx) error {
		ts, err := w.now()
		if err != nil {
			return err
		}
		var orgID string
		err = w.QueryRow(ctx, `SELECT org_id FROM users WHERE id = $1`, userID).Scan(&orgID)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.Errorf(store.ENotFound, "user not found")
		}
		if err != nil {
			return err
		}
		if _, err := w.Exec(ctx, query, qargs...); err != nil {
			return err
		}
		tag, err := w.Exec(ctx, `UPDATE sessions s SET terminated_at = $1, terminated_by = $2, updated_at = $1
			FROM session_keys k WHERE s.id = k.id AND k.org_id = $4 AND k.user_id = $3
			AND s.terminated_at IS NULL AND s.expires_at > $1`, ts, nullString(by.UserID), userID, orgID)
		if err != nil {
			return err
		}
		rv.Sessions = int(tag.RowsAffected())
		tag, err = w.Exec(ctx, `UPDATE devices SET trusted_at = NULL, trust_secret_hash = NULL, updated_at = $1
			WHERE user_id = $2 AND (trusted_at IS NOT NULL OR trust_secret_hash IS NOT NULL)`, ts, userID)
		if err != nil {
			return err
		}
		rv.Devices = int(tag.RowsAffected())
		return insertAudit(w, orgID, ts, by, action, auditTarget{ID: userID, UserID: userID}, rv.Sessions)
	})
	if err != nil {
		return store.Revocation{}, wrap(op, err)
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
	ids := target.IDs
	if ids == nil {
		ids = []string{} // pgx sends a nil slice as NULL
	}
	_, err := w.Exec(w.ctx, `INSERT INTO audit_events (id, org_id, at, actor_id, action, target_id, target_user_id,
		target_label, target_ids, count, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		store.NewID(store.PrefixAudit), orgID, ts, nullString(by.UserID), action, nullString(target.ID),
		nullString(target.UserID), target.Label, ids, count, by.Reason)
	if err != nil {
		return errors.Join(errors.New("insert audit event"), err)
	}
	return nil
}

// auditBulkEnd records the audit event of a bulk end that ended n sessions
// at ts, naming the first api.MaxTargetIDs of them in ID order; one that
// ended nothing records nothing (see store.Store).
//
// The sessions of the organization stamped with ts are exactly those this
// transaction's UPDATE ended: the write clock hands each transaction its own
// timestamp under its row lock. The feed index (org_id, updated_at, id)
// gives the first ones without visiting the rest, so a terminate-all of
// 100,000 reads 1,000 index entries, not 100,000 rows.
func auditBulkEnd(w *writeTx, orgID string, ts int64, by store.Actor, action string, target auditTarget, n int) error {
	if n == 0 {
		return nil
	}
	rows, err := w.Query(w.ctx, `SELECT id FROM sessions WHERE org_id = $1 AND updated_at = $2 ORDER BY id LIMIT $3`,
		orgID, ts, api.MaxTargetIDs)
	if err != nil {
		return errors.Join(errors.New("ended sessions"), err)
	}
	if target.IDs, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return errors.Join(errors.New("ended sessions"), err)
	}
	return insertAudit(w, orgID, ts, by, action, target, n)
}

// TerminateSession ends one session and audits it in the same transaction.
func (d *DB) TerminateSession(ctx context.Context, orgID, id string, by store.Actor) (store.Session, error) {
	var s store.Session
	err := d.write(ctx, func(w *writeTx) error {
		var exists bool
		if err := w.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND org_id = $2)`, id, orgID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return store.Errorf(store.ENotFound, "session not found")
		}
		ts, err := w.now()
		if err != nil {
			return err
		}
		// Under the clock lock no other stamping write runs, so the row
		// read here is the one this UPDATE sees.
		var userID, client, ip string
		err = w.QueryRow(ctx, `UPDATE sessions SET terminated_at = $1, terminated_by = $2, updated_at = $1
			WHERE id = $3 AND terminated_at IS NULL RETURNING user_id, client, ip`, ts, by.UserID, id).Scan(&userID, &client, &ip)
		switch {
		case errors.Is(err, pgx.ErrNoRows): // already terminated: unchanged, no event
		case err != nil:
			return err
		default:
			target := auditTarget{ID: id, UserID: userID, Label: store.SessionLabel(client, ip)}
			if err := insertAudit(w, orgID, ts, by, store.ActionSessionTerminate, target, 1); err != nil {
				return err
			}
		}
		s, err = getSession(ctx, w, orgID, id)
		return err
	})
	if err != nil {
		return s, wrap("terminate session", err)
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
		tag, err := w.Exec(ctx, `UPDATE sessions SET terminated_at = $1, terminated_by = $2, updated_at = $1
			WHERE org_id = $3 AND terminated_at IS NULL AND expires_at > $1 AND id <> $4`,
			ts, by.UserID, orgID, keepSessionID)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		return auditBulkEnd(w, orgID, ts, by, store.ActionSessionsTerminateAll, auditTarget{}, int(n))
	})
	if err != nil {
		return 0, wrap("terminate all", err)
	}
	return int(n), nil
}

// TerminateUserSessions ends one user's active sessions but one, with a
// single UPDATE (found through session_keys_org_user) and one audit row.
func (d *DB) TerminateUserSessions(ctx context.Context, orgID, userID, keepSessionID string, by store.Actor) (int, error) {
	var n int64
	err := d.write(ctx, func(w *writeTx) error {
		ts, err := w.now()
		if err != nil {
			return err
		}
		var found bool
		if err := w.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND org_id = $2)`, userID, orgID).Scan(&found); err != nil {
			return err
		}
		if !found {
			return store.Errorf(store.ENotFound, "user not found")
		}
		tag, err := w.Exec(ctx, `UPDATE sessions s SET terminated_at = $1, terminated_by = $2, updated_at = $1
			FROM session_keys k WHERE s.id = k.id AND k.org_id = $3 AND k.user_id = $4
			AND s.terminated_at IS NULL AND s.expires_at > $1 AND s.id <> $5`,
			ts, by.UserID, orgID, userID, keepSessionID)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		return auditBulkEnd(w, orgID, ts, by, store.ActionUserSessionsTerminate, auditTarget{ID: userID, UserID: userID}, int(n))
	})
	if err != nil {
		return 0, wrap("terminate user sessions", err)
	}
	return int(n), nil
}

// TerminateSessions ends the listed sessions of the organization with one
// UPDATE over the ID list, and one audit row.
func (d *DB) TerminateSessions(ctx context.Context, orgID string, ids []string, by store.Actor) (store.Selected, error) {
	out := store.Selected{NotFound: []string{}}
	uniq := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	if len(uniq) == 0 {
		return out, nil
	}
	err := d.write(ctx, func(w *writeTx) error {
		out = store.Selected{NotFound: []string{}}
		ts, err := w.now()
		if err != nil {
			return err
		}
		rows, err := w.Query(ctx, `SELECT id FROM sessions WHERE org_id = $1 AND id = ANY($2)`, orgID, uniq)
		if err != nil {
			return err
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		have := make(map[string]bool, len(found))
		for _, id := range found {
			have[id] = true
		}
		for _, id := range uniq {
			if !have[id] {
				out.NotFound = append(out.NotFound, id)
			}
		}
		rows, err = w.Query(ctx, `UPDATE sessions SET terminated_at = $1, terminated_by = $2, updated_at = $1
			WHERE org_id = $3 AND id = ANY($4) AND terminated_at IS NULL AND expires_at > $1 RETURNING user_id`,
			ts, by.UserID, orgID, uniq)
		if err != nil {
			return err
		}
		owners, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		out.Terminated = len(owners)
		// The event names a person only when every ended session was theirs.
		var target auditTarget
		for i, u := range owners {
			if i == 0 {
				target.UserID = u
			} else if u != target.UserID {
				target.UserID = ""
				break
			}
		}
		return auditBulkEnd(w, orgID, ts, by, store.ActionSessionsTerminateSelected, target, out.Terminated)
	})
	if err != nil {
		return store.Selected{}, wrap("terminate sessions", err)
	}
	return out, nil
}
