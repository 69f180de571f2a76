package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"sessiondesk/backend/store"
)

const deviceCols = `d.id, d.org_id, d.name, d.platform, d.trusted_at, d.first_seen_at, d.last_seen_at, d.last_ip,
	d.updated_at, u.id, u.email, u.name`

const deviceFrom = ` FROM devices d JOIN users u ON u.id = d.user_id `

func scanDevice(sc scanner) (store.Device, error) {
	var d store.Device
	var trusted sql.NullInt64
	var first, last, updated int64
	err := sc.Scan(&d.ID, &d.OrgID, &d.Name, &d.Platform, &trusted, &first, &last, &d.LastIP, &updated,
		&d.User.ID, &d.User.Email, &d.User.Name)
	if err != nil {
		return d, err
	}
	d.User.OrgID = d.OrgID
	d.TrustedAt = fromNullNanos(trusted)
	d.FirstSeenAt = fromNanos(first)
	d.LastSeenAt = fromNanos(last)
	d.UpdatedAt = fromNanos(updated)
	return d, nil
}

func getDevice(ctx context.Context, q querier, orgID, id string) (store.Device, error) {
	return getOne(ctx, q, deviceCols, deviceFrom, "d", "device", orgID, id, func(sc scanner) (store.Device, error) { return scanDevice(sc) })
}

// GetDevice returns one device of the organization.
func (d *DB) GetDevice(ctx context.Context, orgID, id string) (store.Device, error) {
	dev, err := getDevice(ctx, d.db, orgID, id)
	if err != nil {
		return dev, fmt.Errorf("sqlite: get device: %w", err)
	}
	return dev, nil
}

// DeviceOfUser returns the device when it belongs to the user.
func (d *DB) DeviceOfUser(ctx context.Context, userID, deviceID string) (store.Device, error) {
	row := d.db.QueryRowContext(ctx, `SELECT `+deviceCols+`, d.trust_secret_hash`+deviceFrom+
		`WHERE d.id = ? AND d.user_id = ?`, deviceID, userID)
	var secretHash []byte
	dev, err := scanDevice(scanExtra{row, []any{&secretHash}})
	if errors.Is(err, sql.ErrNoRows) {
		return dev, store.Errorf(store.ENotFound, "device not found")
	}
	if err != nil {
		return dev, fmt.Errorf("sqlite: device of user: %w", err)
	}
	dev.TrustSecretHash = secretHash
	return dev, nil
}

// scanExtra scans the columns a shared scan function knows and then extra
// ones selected after them.
type scanExtra struct {
	sc    scanner
	extra []any
}

func (s scanExtra) Scan(dest ...any) error { return s.sc.Scan(append(dest, s.extra...)...) }

// ListDevices pages through an organization's devices.
func (d *DB) ListDevices(ctx context.Context, orgID string, f store.DeviceFilter) (store.Page[store.Device], error) {
	var where strings.Builder
	args := []any{orgID}
	where.WriteString(`WHERE d.org_id = ?`)
	if f.Trusted != nil {
		if *f.Trusted {
			where.WriteString(` AND d.trusted_at IS NOT NULL`)
		} else {
			where.WriteString(` AND d.trusted_at IS NULL`)
		}
	}
	if f.UserID != "" {
		where.WriteString(` AND d.user_id = ?`)
		args = append(args, f.UserID)
	}
	if f.Query != "" {
		q := store.FoldASCII(f.Query)
		where.WriteString(` AND (instr(lower(u.email), ?) > 0 OR instr(lower(u.name), ?) > 0
			OR instr(lower(d.name), ?) > 0 OR instr(lower(d.last_ip), ?) > 0 OR instr(lower(d.platform), ?) > 0)`)
		args = append(args, q, q, q, q, q)
	}
	args, order := listKeyset(&where, args, "d", "first_seen_at", f.UpdatedSince, f.After)
	keyOf := func(d store.Device) store.Key { return store.Key{At: d.FirstSeenAt, ID: d.ID} }
	if f.UpdatedSince != nil {
		keyOf = func(d store.Device) store.Key { return store.Key{At: d.UpdatedAt, ID: d.ID} }
	}
	limit := store.PageLimit(f.Limit)
	rows, err := d.db.QueryContext(ctx, `SELECT `+deviceCols+deviceFrom+where.String()+order+` LIMIT ?`, append(args, limit+1)...)
	items, err := collect(rows, err, min(limit+1, 1000), scanDevice)
	if err != nil {
		return store.Page[store.Device]{}, fmt.Errorf("sqlite: list devices: %w", err)
	}
	return store.PageOf(items, limit, keyOf), nil
}

// UntrustDevice revokes trust and audits it in the same transaction.
func (d *DB) UntrustDevice(ctx context.Context, orgID, id string, by store.Actor) (store.Device, error) {
	var dev store.Device
	err := d.write(ctx, func(w *writeTx) error {
		var trusted sql.NullInt64
		var userID, name string
		err := w.QueryRowContext(ctx, `SELECT trusted_at, user_id, name FROM devices WHERE id = ? AND org_id = ?`, id, orgID).Scan(&trusted, &userID, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return store.Errorf(store.ENotFound, "device not found")
		}
		if err != nil {
			return err
		}
		if trusted.Valid {
			ts, err := w.now()
			if err != nil {
				return err
			}
			if _, err := w.ExecContext(ctx, `UPDATE devices SET trusted_at = NULL, trust_secret_hash = NULL, updated_at = ? WHERE id = ?`, ts, id); err != nil {
				return err
			}
			if err := insertAudit(w, orgID, ts, by, store.ActionDeviceUntrust, auditTarget{ID: id, UserID: userID, Label: name}, 1); err != nil {
				return err
			}
		}
		dev, err = getDevice(ctx, w, orgID, id)
		return err
	})
	if err != nil {
		return dev, fmt.Errorf("sqlite: untrust device: %w", err)
	}
	return dev, nil
}

const auditCols = `a.id, a.org_id, a.at, a.action, a.target_id, a.target_label, a.target_ids, a.count, a.reason,
	u.id, u.email, u.name, t.id, t.email, t.name`

const auditFrom = ` FROM audit_events a LEFT JOIN users u ON u.id = a.actor_id LEFT JOIN users t ON t.id = a.target_user_id `

func scanAudit(sc scanner) (store.AuditEvent, error) {
	var e store.AuditEvent
	var at int64
	var target, actorID, actorEmail, actorName, tuID, tuEmail, tuName sql.NullString
	var targetIDs []byte
	if err := sc.Scan(&e.ID, &e.OrgID, &at, &e.Action, &target, &e.TargetLabel, &targetIDs, &e.Count, &e.Reason,
		&actorID, &actorEmail, &actorName, &tuID, &tuEmail, &tuName); err != nil {
		return e, err
	}
	e.TargetIDs = []string{}
	if len(targetIDs) > 2 { // not "[]"
		if err := json.Unmarshal(targetIDs, &e.TargetIDs); err != nil {
			return e, fmt.Errorf("audit event %s: target_ids: %w", e.ID, err)
		}
	}
	e.At = fromNanos(at)
	e.TargetID = target.String
	if actorID.Valid {
		e.Actor = store.User{ID: actorID.String, Email: actorEmail.String, Name: actorName.String}
	} else {
		e.Actor = store.SystemActor() // the command line
	}
	e.Actor.OrgID = e.OrgID
	if tuID.Valid {
		e.TargetUser = &store.User{ID: tuID.String, OrgID: e.OrgID, Email: tuEmail.String, Name: tuName.String}
	}
	return e, nil
}

// ListAudit pages through the audit log, newest first, filtered.
func (d *DB) ListAudit(ctx context.Context, orgID string, f store.AuditFilter) (store.Page[store.AuditEvent], error) {
	args := []any{orgID}
	where := `WHERE a.org_id = ?`
	if f.Action != "" {
		where += ` AND a.action = ?`
		args = append(args, f.Action)
	}
	switch f.ActorID {
	case "":
	case store.SystemActorID:
		where += ` AND a.actor_id IS NULL`
	default:
		where += ` AND a.actor_id = ?`
		args = append(args, f.ActorID)
	}
	if f.TargetUserID != "" {
		where += ` AND a.target_user_id = ?`
		args = append(args, f.TargetUserID)
	}
	if f.Query != "" {
		q := store.FoldASCII(f.Query)
		// The command line's events have no actor row; their actor's name
		// (store.SystemActor) is searchable like any other.
		where += ` AND (instr(lower(a.reason), ?) > 0 OR instr(lower(a.target_label), ?) > 0
			OR instr(lower(COALESCE(u.email, '')), ?) > 0 OR instr(lower(COALESCE(u.name, ?)), ?) > 0
			OR instr(lower(COALESCE(t.email, '')), ?) > 0 OR instr(lower(COALESCE(t.name, '')), ?) > 0)`
		args = append(args, q, q, q, store.FoldASCII(store.SystemActor().Name), q, q, q)
	}
	if f.After != nil {
		where += ` AND (a.at, a.id) < (?, ?)`
		args = append(args, nanos(f.After.At), f.After.ID)
	}
	limit := store.PageLimit(f.Limit)
	rows, err := d.db.QueryContext(ctx, `SELECT `+auditCols+auditFrom+where+
		` ORDER BY a.at DESC, a.id DESC LIMIT ?`, append(args, limit+1)...)
	items, err := collect(rows, err, min(limit+1, 1000), scanAudit)
	if err != nil {
		return store.Page[store.AuditEvent]{}, fmt.Errorf("sqlite: list audit: %w", err)
	}
	return store.PageOf(items, limit, func(e store.AuditEvent) store.Key { return store.Key{At: e.At, ID: e.ID} }), nil
}

// bulkIndexThreshold is the number of session and device rows from which
// BulkLoad drops the secondary indexes of those tables, inserts, and builds
// the indexes again. Inserting 120,000 rows with random keys into nine
// indexes spent most of the large seed's time in B-tree inserts; building
// each index once by sorting is several times cheaper.
const bulkIndexThreshold = 10_000

// BulkLoad inserts seed rows in one transaction with prepared statements.
// Large loads rebuild the session and device indexes inside that same
// transaction, so a failure (a duplicate token hash, say, now reported when
// its unique index is built) still leaves the database as it was.
func (d *DB) BulkLoad(ctx context.Context, b store.Bulk) error {
	err := d.write(ctx, func(w *writeTx) error {
		ts, err := w.now()
		if err != nil {
			return err
		}
		if len(b.Sessions)+len(b.Devices) < bulkIndexThreshold {
			return insertBulk(w, b, ts)
		}
		rebuild, err := dropIndexes(w, "sessions", "devices")
		if err != nil {
			return err
		}
		if err := insertBulk(w, b, ts); err != nil {
			return err
		}
		if err := rebuild(); err != nil {
			return err
		}
		return analyze(w)
	})
	if err != nil {
		return fmt.Errorf("sqlite: bulk load: %w", err)
	}
	return nil
}

// analyze gathers the planner's statistics after a large load, as the
// PostgreSQL store does after its own. Without them the planner takes any
// index on org_id for a terminate-all, and at a million sessions of one
// organization it visited every row in sessions_org_user's order, all over
// the file (21 s); knowing that the organization is most of the table it
// scans the table in order (15 s, docs/bench.md), while a small
// organization still goes by the index, and the reads keep their plans.
// Small loads gather none: statistics of a handful of rows would mislead
// the planner once the tables grow (with ten sessions of one user it read
// a user's sessions through a temporary sort). About 1 s at a million.
func analyze(w *writeTx) error {
	if _, err := w.ExecContext(w.ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// insertBulk inserts the rows of b with updated_at ts.
func insertBulk(w *writeTx, b store.Bulk, ts int64) error {
	ctx := w.ctx
	for _, o := range b.Orgs {
		if _, err := w.ExecContext(ctx, `INSERT INTO orgs (id, slug, name, created_at) VALUES (?, ?, ?, ?)`,
			o.ID, o.Slug, o.Name, nanos(o.CreatedAt)); err != nil {
			if isUnique(err) {
				return store.Errorf(store.EConflict, "organization %q already exists", o.Slug)
			}
			return err
		}
	}
	us, err := w.PrepareContext(ctx, `INSERT INTO users (id, org_id, email, name, role, password_hash, totp_secret, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer us.Close()
	for _, u := range b.Users {
		if _, err := us.ExecContext(ctx, u.ID, u.OrgID, store.FoldASCII(u.Email), u.Name, u.Role, u.PasswordHash, u.TOTPSecret, ts); err != nil {
			return fmt.Errorf("insert user %s: %w", u.Email, err)
		}
	}
	ds, err := w.PrepareContext(ctx, `INSERT INTO devices (id, org_id, user_id, name, platform, trusted_at,
		first_seen_at, last_seen_at, last_ip, updated_at, trust_secret_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ds.Close()
	for _, dv := range b.Devices {
		if _, err := ds.ExecContext(ctx, dv.ID, dv.OrgID, dv.User.ID, dv.Name, dv.Platform, nullNanos(dv.TrustedAt),
			nanos(dv.FirstSeenAt), nanos(dv.LastSeenAt), dv.LastIP, ts, dv.TrustSecretHash); err != nil {
			return fmt.Errorf("insert device: %w", err)
		}
	}
	ss, err := w.PrepareContext(ctx, `INSERT INTO sessions (id, org_id, user_id, device_id, token_hash, ip, user_agent,
		client, location, mfa, created_at, last_active_at, expires_at, absolute_expires_at, updated_at,
		terminated_at, terminated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ss.Close()
	for _, bs := range b.Sessions {
		s := bs.Session
		var tb any
		if s.TerminatedBy != nil {
			tb = s.TerminatedBy.ID
		}
		if _, err := ss.ExecContext(ctx, s.ID, s.OrgID, s.User.ID, nullString(s.DeviceID), bs.TokenHash, s.IP,
			s.UserAgent, s.Client, s.Location, s.MFA, nanos(s.CreatedAt), nanos(s.LastActiveAt), nanos(s.ExpiresAt),
			nanos(s.AbsoluteExpiresAt), ts, nullNanos(s.TerminatedAt), tb); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
	}
	return nil
}

// dropIndexes drops the explicitly created indexes of the tables (not the
// automatic ones behind PRIMARY KEY and UNIQUE) and returns a function that
// creates them again from the very SQL the schema holds, so the rebuilt
// indexes are exactly the migrated ones.
func dropIndexes(w *writeTx, tables ...string) (rebuild func() error, err error) {
	type index struct{ name, sql string }
	var idx []index
	for _, t := range tables {
		rows, err := w.QueryContext(w.ctx, `SELECT name, sql FROM sqlite_schema
			WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`, t)
		if err != nil {
			return nil, fmt.Errorf("list indexes: %w", err)
		}
		for rows.Next() {
			var i index
			if err := rows.Scan(&i.name, &i.sql); err != nil {
				rows.Close()
				return nil, fmt.Errorf("list indexes: %w", err)
			}
			idx = append(idx, i)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("list indexes: %w", err)
		}
	}
	for _, i := range idx {
		if _, err := w.ExecContext(w.ctx, `DROP INDEX "`+strings.ReplaceAll(i.name, `"`, `""`)+`"`); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", i.name, err)
		}
	}
	return func() error {
		for _, i := range idx {
			if _, err := w.ExecContext(w.ctx, i.sql); err != nil {
				if isUnique(err) {
					return store.Errorf(store.EConflict, "duplicate rows for index %s", i.name)
				}
				return fmt.Errorf("create index %s: %w", i.name, err)
			}
		}
		return nil
	}, nil
}
