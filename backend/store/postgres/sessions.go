package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sessiondesk/backend/store"
)

const sessionCols = `s.id, s.org_id, s.device_id, s.ip, s.user_agent, s.client, s.location, s.mfa,
	s.created_at, s.last_active_at, s.expires_at, s.absolute_expires_at, s.updated_at, s.terminated_at,
	u.id, u.email, u.name, tb.id, tb.email, tb.name`

const sessionFrom = ` FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN users tb ON tb.id = s.terminated_by `

// sessionFromKeys is sessionFrom reached through session_keys k, for the
// lookups by token, creation order and owner, whose indexes live there
// (see the migration: a terminate-all never writes that table).
const sessionFromKeys = ` FROM session_keys k JOIN sessions s ON s.id = k.id JOIN users u ON u.id = s.user_id
	LEFT JOIN users tb ON tb.id = s.terminated_by `

// sessionScan holds the scan targets of sessionCols.
type sessionScan struct {
	s                                        store.Session
	device, tbID, tbEmail, tbName            *string
	created, lastActive, expires, absExpires int64
	updated                                  int64
	terminated                               *int64
}

func (x *sessionScan) dest() []any {
	s := &x.s
	return []any{&s.ID, &s.OrgID, &x.device, &s.IP, &s.UserAgent, &s.Client, &s.Location, &s.MFA,
		&x.created, &x.lastActive, &x.expires, &x.absExpires, &x.updated, &x.terminated,
		&s.User.ID, &s.User.Email, &s.User.Name, &x.tbID, &x.tbEmail, &x.tbName}
}

func (x *sessionScan) session() store.Session {
	s := x.s
	s.User.OrgID = s.OrgID
	s.DeviceID = deref(x.device)
	s.CreatedAt = fromNanos(x.created)
	s.LastActiveAt = fromNanos(x.lastActive)
	s.ExpiresAt = fromNanos(x.expires)
	s.AbsoluteExpiresAt = fromNanos(x.absExpires)
	s.UpdatedAt = fromNanos(x.updated)
	s.TerminatedAt = fromNullNanos(x.terminated)
	if x.tbID != nil {
		s.TerminatedBy = &store.User{ID: *x.tbID, Email: deref(x.tbEmail), Name: deref(x.tbName), OrgID: s.OrgID}
	}
	return s
}

func scanSession(sc scanner) (store.Session, error) {
	var x sessionScan
	if err := sc.Scan(x.dest()...); err != nil {
		return store.Session{}, err
	}
	return x.session(), nil
}

func getSession(ctx context.Context, q querier, orgID, id string) (store.Session, error) {
	return getOne(ctx, q, sessionCols, sessionFrom, "s", "session", orgID, id, func(sc scanner) (store.Session, error) { return scanSession(sc) })
}

// GetSession returns one session of the organization.
func (d *DB) GetSession(ctx context.Context, orgID, id string) (store.Session, error) {
	s, err := getSession(ctx, d.pool, orgID, id)
	if err != nil {
		return s, wrap("get session", err)
	}
	return s, nil
}

// ListSessions pages through an organization's sessions (see
// store.SessionFilter for the two orders).
func (d *DB) ListSessions(ctx context.Context, orgID string, f store.SessionFilter) (store.Page[store.Session], error) {
	var page store.Page[store.Session]
	query, a, limit, keyOf := sessionsPage(orgID, f)
	rows, err := d.pool.Query(ctx, query, a...)
	if err != nil {
		return page, wrap("list sessions", err)
	}
	defer rows.Close()
	// One scan target for every row: the list's hot loop allocates only
	// the sessions themselves.
	items := make([]store.Session, 0, min(limit+1, 1000))
	var x sessionScan
	dest := x.dest()
	for rows.Next() {
		x = sessionScan{}
		if err := rows.Scan(dest...); err != nil {
			return page, wrap("list sessions", err)
		}
		items = append(items, x.session())
	}
	if err := rows.Err(); err != nil {
		return page, wrap("list sessions", err)
	}
	return store.PageOf(items, limit, keyOf), nil
}

// sessionsPage is ListSessions' query for one page (it asks for limit+1
// rows) and the key its cursor takes from a session.
func sessionsPage(orgID string, f store.SessionFilter) (query string, a args, limit int, keyOf func(store.Session) store.Key) {
	var where strings.Builder
	// The feed walks sessions_org_updated. The pages of active sessions in
	// creation order walk sessions_org_active, on sessions itself: a page of
	// 1000 then reads 1000 rows instead of 1000 keys plus a primary-key probe
	// of sessions for each (half the database time of a walk; see migration
	// 0003). Other pages in creation order (status=all, one user's) walk
	// session_keys' indexes (k) and join each row's sessions row.
	activeOrder := f.UpdatedSince == nil && f.ActiveOnly && f.UserID == ""
	from, key := sessionFrom, "s"
	if f.UpdatedSince == nil && !activeOrder {
		from, key = sessionFromKeys, "k"
	}
	where.WriteString(`WHERE ` + key + `.org_id = ` + a.add(orgID))
	if f.UpdatedSince == nil && f.ActiveOnly {
		where.WriteString(` AND s.terminated_at IS NULL AND s.expires_at > ` + a.add(nanos(f.Now)))
	}
	if f.UserID != "" {
		where.WriteString(` AND ` + key + `.user_id = ` + a.add(f.UserID))
	}
	if f.Query != "" {
		q := a.add(f.Query)
		where.WriteString(` AND (strpos(lower(u.email), lower(` + q + `)) > 0 OR strpos(lower(u.name), lower(` + q + `)) > 0
			OR strpos(lower(s.ip), lower(` + q + `)) > 0 OR strpos(lower(s.client), lower(` + q + `)) > 0)`)
	}
	var order string
	keyOf = func(s store.Session) store.Key { return store.Key{At: s.CreatedAt, ID: s.ID} }
	if f.UpdatedSince != nil {
		order = feedCond(&where, &a, "s", *f.UpdatedSince, f.After)
		keyOf = func(s store.Session) store.Key { return store.Key{At: s.UpdatedAt, ID: s.ID} }
	} else {
		// The condition s.terminated_at IS NULL above is the predicate of
		// sessions_org_active, written out as it is, which lets the planner
		// use that partial index.
		order = createdCond(&where, &a, key, "created_at", f.After)
	}
	limit = store.PageLimit(f.Limit)
	lim := a.add(limit + 1)
	return `SELECT ` + sessionCols + from + where.String() + order + ` LIMIT ` + lim, a, limit, keyOf
}

// Authenticate resolves a token hash. It always reads the database (no
// cache): a session ended through any replica is refused by every replica
// on the very next request.
func (d *DB) Authenticate(ctx context.Context, tokenHash []byte) (store.Principal, error) {
	var p store.Principal
	var x sessionScan
	dest := append(x.dest(), &x.s.User.Role, &p.Org.ID, &p.Org.Slug, &p.Org.Name)
	err := d.pool.QueryRow(ctx, `SELECT `+sessionCols+`, u.role, o.id, o.slug, o.name`+sessionFromKeys+
		` JOIN orgs o ON o.id = s.org_id WHERE k.token_hash = $1`, tokenHash).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, store.Errorf(store.ENotFound, "session not found")
	}
	if err != nil {
		return p, wrap("authenticate", err)
	}
	p.Session = x.session()
	p.User = p.Session.User
	return p, nil
}

// TouchSession slides last_active_at and expires_at, at most once per
// minInterval.
func (d *DB) TouchSession(ctx context.Context, sessionID string, idle, minInterval time.Duration) error {
	// Check outside any transaction first, so a touch another request (or
	// replica) already did costs no clock lock.
	now := nanos(d.clock())
	var due bool
	err := d.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND terminated_at IS NULL
		AND expires_at > $2 AND last_active_at <= $3)`, sessionID, now, now-int64(minInterval)).Scan(&due)
	if err != nil {
		return wrap("touch session", err)
	}
	if !due {
		return nil
	}
	err = d.write(ctx, func(w *writeTx) error {
		ts, err := w.now()
		if err != nil {
			return err
		}
		// The condition again: another touch or a termination may have
		// committed meanwhile.
		_, err = w.Exec(ctx, `UPDATE sessions SET last_active_at = $1,
			expires_at = LEAST(absolute_expires_at, $2), updated_at = $1
			WHERE id = $3 AND terminated_at IS NULL AND expires_at > $1 AND last_active_at <= $4`,
			ts, ts+int64(idle), sessionID, ts-int64(minInterval))
		return err
	})
	if err != nil {
		return wrap("touch session", err)
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
		_, err = w.Exec(ctx, `UPDATE sessions SET terminated_at = $1, terminated_by = user_id, updated_at = $1
			WHERE id = $2 AND terminated_at IS NULL`, ts, sessionID)
		return err
	})
	if err != nil {
		return wrap("logout", err)
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
		if err := w.QueryRow(ctx, `SELECT org_id FROM users WHERE id = $1`, in.UserID).Scan(&orgID); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return store.Errorf(store.ENotFound, "user not found")
			}
			return err
		}
		if err := endSessionsOverCap(w, orgID, in.UserID, ts, in.MaxSessions, in.LimitReason); err != nil {
			return err
		}
		deviceID := in.DeviceID
		if deviceID != "" {
			tag, err := w.Exec(ctx, `UPDATE devices SET last_seen_at = $1, last_ip = $2, updated_at = $1,
				trusted_at = CASE WHEN $3 THEN COALESCE(trusted_at, $1) ELSE trusted_at END,
				trust_secret_hash = CASE WHEN $3 THEN $4 ELSE trust_secret_hash END
				WHERE id = $5 AND user_id = $6`, ts, in.IP, in.TrustDevice, in.TrustSecretHash, deviceID, in.UserID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				deviceID = ""
			}
		}
		if deviceID == "" {
			deviceID = store.NewID(store.PrefixDevice)
			var trusted *int64
			var secretHash []byte
			if in.TrustDevice {
				trusted, secretHash = &ts, in.TrustSecretHash
			}
			if _, err := w.Exec(ctx, `INSERT INTO devices (id, org_id, user_id, name, platform, trusted_at,
				first_seen_at, last_seen_at, last_ip, updated_at, trust_secret_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $7, $9)`,
				deviceID, orgID, in.UserID, in.DeviceName, in.DevicePlatform, trusted, ts, in.IP, secretHash); err != nil {
				return err
			}
		}
		sessionID := store.NewSessionID(time.Unix(0, ts))
		abs := ts + int64(in.Absolute)
		exp := min(abs, ts+int64(in.Idle))
		if _, err := w.Exec(ctx, `INSERT INTO sessions (id, org_id, user_id, device_id, token_hash, ip, user_agent,
			client, location, mfa, created_at, last_active_at, expires_at, absolute_expires_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $11)`,
			sessionID, orgID, in.UserID, deviceID, in.TokenHash, in.IP, in.UserAgent, in.Client, in.Location, in.MFA,
			ts, exp, abs); err != nil {
			return err
		}
		if s, err = getSession(ctx, w, orgID, sessionID); err != nil {
			return err
		}
		dev, err = getDevice(ctx, w, orgID, deviceID)
		return err
	})
	if err != nil {
		return s, dev, wrap("sign in", err)
	}
	return s, dev, nil
}

// DeleteEndedSessions deletes at most limit sessions that ended before
// endedBefore (see store.Store). It stamps nothing, so it takes no clock.
//
// A session that ended before the horizon was last written before it too
// (a termination is a session's last write; touches stop at expiry), so
// updated_at < horizon holds for each, and the feed index (org_id,
// updated_at, id) finds them, organization by organization, without an
// index of its own that every terminate-all would have to maintain.
func (d *DB) DeleteEndedSessions(ctx context.Context, endedBefore time.Time, limit int) (int, error) {
	return d.deletePerOrg(ctx, "delete ended sessions", `DELETE FROM sessions WHERE id IN (SELECT id FROM sessions
		WHERE org_id = $1 AND updated_at < $2
		AND (terminated_at < $2 OR (terminated_at IS NULL AND expires_at < $2)) LIMIT $3)`, endedBefore, limit)
}

// deletePerOrg runs a housekeeping DELETE for one organization after the
// other, query's $1 the organization, $2 the horizon and $3 how many rows
// it may still delete, until limit rows are gone. One organization at a
// time keeps each statement on the indexes that lead with org_id.
func (d *DB) deletePerOrg(ctx context.Context, op, query string, horizon time.Time, limit int) (int, error) {
	rows, err := d.pool.Query(ctx, `SELECT id FROM orgs ORDER BY id`)
	if err != nil {
		return 0, wrap(op, err)
	}
	orgs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, wrap(op, err)
	}
	total := 0
	for _, org := range orgs {
		if total >= limit {
			break
		}
		tag, err := d.pool.Exec(ctx, query, org, nanos(horizon), limit-total)
		if err != nil {
			return total, wrap(op, err)
		}
		total += int(tag.RowsAffected())
	}
	return total, nil
}
