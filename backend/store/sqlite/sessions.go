package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"sessiondesk/backend/store"
)

const sessionCols = `s.id, s.org_id, s.device_id, s.ip, s.user_agent, s.client, s.location, s.mfa,
	s.created_at, s.last_active_at, s.expires_at, s.absolute_expires_at, s.updated_at, s.terminated_at,
	u.id, u.email, u.name, tb.id, tb.email, tb.name`

const sessionFrom = ` FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN users tb ON tb.id = s.terminated_by `

// scanSession scans a row that starts with sessionCols; extra receives the
// columns a query selects after them.
func scanSession(sc scanner, extra ...any) (store.Session, error) {
	var s store.Session
	var device, tbID, tbEmail, tbName sql.NullString
	var created, lastActive, expires, absExpires, updated int64
	var terminated sql.NullInt64
	// One destination slice, sized for the extra columns too (this scan
	// runs for every row of every list page).
	dest := append(make([]any, 0, 20+len(extra)), &s.ID, &s.OrgID, &device, &s.IP, &s.UserAgent, &s.Client, &s.Location, &s.MFA,
		&created, &lastActive, &expires, &absExpires, &updated, &terminated,
		&s.User.ID, &s.User.Email, &s.User.Name, &tbID, &tbEmail, &tbName)
	err := sc.Scan(append(dest, extra...)...)
	if err != nil {
		return s, err
	}
	s.User.OrgID = s.OrgID
	s.DeviceID = device.String
	s.CreatedAt = fromNanos(created)
	s.LastActiveAt = fromNanos(lastActive)
	s.ExpiresAt = fromNanos(expires)
	s.AbsoluteExpiresAt = fromNanos(absExpires)
	s.UpdatedAt = fromNanos(updated)
	s.TerminatedAt = fromNullNanos(terminated)
	if tbID.Valid {
		s.TerminatedBy = &store.User{ID: tbID.String, Email: tbEmail.String, Name: tbName.String, OrgID: s.OrgID}
	}
	return s, nil
}

func getSession(ctx context.Context, q querier, orgID, id string) (store.Session, error) {
	return getOne(ctx, q, sessionCols, sessionFrom, "s", "session", orgID, id, func(sc scanner) (store.Session, error) { return scanSession(sc) })
}

// GetSession returns one session of the organization.
func (d *DB) GetSession(ctx context.Context, orgID, id string) (store.Session, error) {
	s, err := getSession(ctx, d.db, orgID, id)
	if err != nil {
		return s, fmt.Errorf("sqlite: get session: %w", err)
	}
	return s, nil
}

// ListSessions pages through an organization's sessions (see
// store.SessionFilter for the two orders).
func (d *DB) ListSessions(ctx context.Context, orgID string, f store.SessionFilter) (store.Page[store.Session], error) {
	var where strings.Builder
	args := []any{orgID}
	where.WriteString(`WHERE s.org_id = ?`)
	if f.UpdatedSince == nil && f.ActiveOnly {
		where.WriteString(` AND s.terminated_at IS NULL AND s.expires_at > ?`)
		args = append(args, nanos(f.Now))
	}
	if f.UserID != "" {
		where.WriteString(` AND s.user_id = ?`)
		args = append(args, f.UserID)
	}
	if f.Query != "" {
		q := store.FoldASCII(f.Query)
		where.WriteString(` AND (instr(lower(u.email), ?) > 0 OR instr(lower(u.name), ?) > 0
			OR instr(lower(s.ip), ?) > 0 OR instr(lower(s.client), ?) > 0)`)
		args = append(args, q, q, q, q)
	}
	args, order := listKeyset(&where, args, "s", "created_at", f.UpdatedSince, f.After)
	keyOf := func(s store.Session) store.Key { return store.Key{At: s.CreatedAt, ID: s.ID} }
	if f.UpdatedSince != nil {
		keyOf = func(s store.Session) store.Key { return store.Key{At: s.UpdatedAt, ID: s.ID} }
	}
	limit := store.PageLimit(f.Limit)
	rows, err := d.db.QueryContext(ctx, `SELECT `+sessionCols+sessionFrom+where.String()+order+` LIMIT ?`, append(args, limit+1)...)
	items, err := collect(rows, err, min(limit+1, 1000), func(sc scanner) (store.Session, error) { return scanSession(sc) })
	if err != nil {
		return store.Page[store.Session]{}, fmt.Errorf("sqlite: list sessions: %w", err)
	}
	return store.PageOf(items, limit, keyOf), nil
}

// Authenticate resolves a token hash.
func (d *DB) Authenticate(ctx context.Context, tokenHash []byte) (store.Principal, error) {
	var p store.Principal
	row := d.db.QueryRowContext(ctx, `SELECT `+sessionCols+`, u.role, o.id, o.slug, o.name`+sessionFrom+
		` JOIN orgs o ON o.id = s.org_id WHERE s.token_hash = ?`, tokenHash)
	s, err := scanSession(row, &p.User.Role, &p.Org.ID, &p.Org.Slug, &p.Org.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return p, store.Errorf(store.ENotFound, "session not found")
	}
	if err != nil {
		return p, fmt.Errorf("sqlite: authenticate: %w", err)
	}
	s.User.Role = p.User.Role
	p.Session = s
	p.User = s.User
	return p, nil
}

// TouchSession slides last_active_at and expires_at, at most once per
// minInterval.
func (d *DB) TouchSession(ctx context.Context, sessionID string, idle, minInterval time.Duration) error {
	err := d.write(ctx, func(w *writeTx) error {
		// Check before taking a timestamp so a touch that turns out to be
		// unnecessary (another request did it) writes nothing.
		now := nanos(d.clock())
		var n int
		err := w.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE id = ? AND terminated_at IS NULL
			AND expires_at > ? AND last_active_at <= ?`, sessionID, now, now-int64(minInterval)).Scan(&n)
		if err != nil || n == 0 {
			return err
		}
		ts, err := w.now()
		if err != nil {
			return err
		}
		_, err = w.ExecContext(ctx, `UPDATE sessions SET last_active_at = ?,
			expires_at = MIN(absolute_expires_at, ?), updated_at = ? WHERE id = ?`,
			ts, ts+int64(idle), ts, sessionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: touch session: %w", err)
	}
	return nil
}

// Logout terminates the caller's own session.
func (d *DB) Logout(ctx context.Context, sessionID string) error {
	err := d.write(ctx, func(w *writeTx) error {
		ts, err := w.now()
		if err != nil {
			return err
		}
		_, err = w.ExecContext(ctx, `UPDATE sessions SET terminated_at = ?, terminated_by = user_id, updated_at = ?
			WHERE id = ? AND terminated_at IS NULL`, ts, ts, sessionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: logout: %w", err)
	}
	return nil
}

// SignIn records a login: device created or refreshed (and maybe trusted),
// session created, in one transaction.
func (d *DB) SignIn(ctx context.Context, in store.SignIn) (store.Session, store.Device, error) {
	var s store.Session
	var dev store.Device
	err := d.write(ctx, func(w *writeTx) error {
		ts, err := w.now()
		if err != nil {
			return err
		}
		var orgID string
		if err := w.QueryRowContext(ctx, `SELECT org_id FROM users WHERE id = ?`, in.UserID).Scan(&orgID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return store.Errorf(store.ENotFound, "user not found")
			}
			return err
		}
		if err := endSessionsOverCap(w, orgID, in.UserID, ts, in.MaxSessions, in.LimitReason); err != nil {
			return err
		}
		deviceID := in.DeviceID
		if deviceID != "" {
			res, err := w.ExecContext(ctx, `UPDATE devices SET last_seen_at = ?, last_ip = ?, updated_at = ?,
				trusted_at = CASE WHEN ? THEN COALESCE(trusted_at, ?) ELSE trusted_at END,
				trust_secret_hash = CASE WHEN ? THEN ? ELSE trust_secret_hash END
				WHERE id = ? AND user_id = ?`, ts, in.IP, ts, in.TrustDevice, ts, in.TrustDevice, in.TrustSecretHash,
				deviceID, in.UserID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				deviceID = ""
			}
		}
		if deviceID == "" {
			deviceID = store.NewID(store.PrefixDevice)
			var trusted any
			var secretHash []byte
			if in.TrustDevice {
				trusted, secretHash = ts, in.TrustSecretHash
			}
			if _, err := w.ExecContext(ctx, `INSERT INTO devices (id, org_id, user_id, name, platform, trusted_at,
				first_seen_at, last_seen_at, last_ip, updated_at, trust_secret_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				deviceID, orgID, in.UserID, in.DeviceName, in.DevicePlatform, trusted, ts, ts, in.IP, ts, secretHash); err != nil {
				return err
			}
		}
		sessionID := store.NewSessionID(time.Unix(0, ts))
		abs := ts + int64(in.Absolute)
		exp := min(abs, ts+int64(in.Idle))
		if _, err := w.ExecContext(ctx, `INSERT INTO sessions (id, org_id, user_id, device_id, token_hash, ip, user_agent,
			client, location, mfa, created_at, last_active_at, expires_at, absolute_expires_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sessionID, orgID, in.UserID, deviceID, in.TokenHash, in.IP, in.UserAgent, in.Client, in.Location, in.MFA,
			ts, ts, exp, abs, ts); err != nil {
			return err
		}
		if s, err = getSession(ctx, w, orgID, sessionID); err != nil {
			return err
		}
		dev, err = getDevice(ctx, w, orgID, deviceID)
		return err
	})
	if err != nil {
		return s, dev, fmt.Errorf("sqlite: sign in: %w", err)
	}
	return s, dev, nil
}
