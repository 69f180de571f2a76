package cache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"sessiondesk/app/domain"
)

// Snapshot is what one sync brings home.
type Snapshot struct {
	// Full replaces every cached session and device with the ones below;
	// otherwise they are upserted (a delta).
	Full     bool
	Sessions []domain.Session
	Devices  []domain.Device
	Audit    []domain.AuditEvent // upserted; the log is trimmed by retention
	// Marks advance the delta feeds; zero leaves a mark as it was.
	SessionsMark time.Time
	DevicesMark  time.Time
	// Complete says this snapshot is a finished sync (it stamps snapshot_at).
	// A local upsert after an action is not.
	Complete bool
	// AuditResume, when not nil, replaces the audit log's resume cursors
	// (see AuditResume); nil leaves them as they are.
	AuditResume *[]string
	// EventID, when not nil, replaces the live stream's resume token (the
	// id of the last event applied; "" forgets it); nil leaves it.
	EventID *string
	// ServerNow is the platform's clock when the snapshot was read (see
	// platformd.Client.Now); retention is measured on it, so a workstation
	// clock that jumped does not delete what the platform still reports.
	// Zero: the store's clock.
	ServerNow time.Time
}

// Applied tells the caller what a snapshot changed.
type Applied struct {
	// NewDevices are devices this profile had never seen, in feed order.
	// Empty on the profile's first sync: what exists then is the baseline.
	NewDevices []domain.Device
	FirstSync  bool
	SnapshotAt time.Time
}

// Apply writes snap in one transaction, records which devices are new and
// marks them seen in the same transaction, so a device is announced at most
// once even if the app dies right after.
func (s *Store) Apply(ctx context.Context, snap Snapshot) (Applied, error) {
	var out Applied
	now := s.now().UTC()
	tx, err := s.conn().BeginTx(ctx, nil)
	if err != nil {
		return out, fmt.Errorf("cache: apply: %w", err)
	}
	defer tx.Rollback()

	if err := s.putRows(ctx, tx, snap); err != nil {
		return out, err
	}
	if err := recordSeen(ctx, tx, snap, now, &out); err != nil {
		return out, err
	}
	if err := setSnapshotMeta(ctx, tx, snap, now); err != nil {
		return out, err
	}
	if snap.Complete {
		out.SnapshotAt = now
	}
	pruneAt := now
	if !snap.ServerNow.IsZero() {
		pruneAt = snap.ServerNow.UTC()
	}
	if err := s.prune(ctx, tx, pruneAt); err != nil {
		return out, err
	}
	if err := tx.Commit(); err != nil {
		return Applied{}, fmt.Errorf("cache: apply: %w", err)
	}
	if snap.Full {
		// A full snapshot passes through the WAL whole: left there, the
		// journal file stays as large as the database itself (SQLite reuses
		// it, never shrinks it). The data is committed either way, so a
		// checkpoint that cannot finish is only logged.
		if _, err := s.conn().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			s.log.Info("cache: journal not truncated after a full sync", "err", err)
		}
	}
	return out, nil
}

// putRows writes snap's sessions, devices and audit events (a full
// snapshot after deleting every session and device).
func (s *Store) putRows(ctx context.Context, tx *sql.Tx, snap Snapshot) error {
	if snap.Full {
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions; DELETE FROM devices"); err != nil {
			return fmt.Errorf("cache: apply: %w", err)
		}
	}
	if snap.Full && len(snap.Sessions) >= bulkRows {
		// Into an empty table, building each secondary index once at the
		// end (a sort) costs a fraction of keeping it up to date row by row
		// (random inserts into B-trees larger than the page cache).
		rebuild, err := dropIndexes(ctx, tx, "sessions")
		if err != nil {
			return err
		}
		if err := s.putSessions(ctx, tx, snap.Sessions); err != nil {
			return err
		}
		for _, stmt := range rebuild {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("cache: apply: rebuild index: %w", err)
			}
		}
	} else if err := s.putSessions(ctx, tx, snap.Sessions); err != nil {
		return err
	}
	if err := s.putDevices(ctx, tx, snap.Devices); err != nil {
		return err
	}
	return s.putAudit(ctx, tx, snap.Audit)
}

// recordSeen is new-device detection against the persisted seen set: it
// adds snap's devices to the set and puts those not in it before into
// out.NewDevices (none on the profile's first complete sync, the baseline).
func recordSeen(ctx context.Context, tx *sql.Tx, snap Snapshot, now time.Time, out *Applied) error {
	var initialized int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM meta WHERE key = 'seen_initialized'").Scan(&initialized); err != nil {
		return fmt.Errorf("cache: apply: %w", err)
	}
	out.FirstSync = initialized == 0 && snap.Complete
	if initialized > 0 || snap.Complete {
		for _, d := range snap.Devices {
			res, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO seen_devices(id, first_seen) VALUES (?, ?)", d.ID, now.UnixNano())
			if err != nil {
				return fmt.Errorf("cache: apply: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 && initialized > 0 {
				out.NewDevices = append(out.NewDevices, d)
			}
		}
	}
	if out.FirstSync {
		return setMeta(ctx, tx, "seen_initialized", now.Format(time.RFC3339Nano))
	}
	return nil
}

// setSnapshotMeta stores what snap moves on: the feeds' marks, the audit
// log's resume cursors, the live stream's resume token and (a complete
// sync) when the snapshot was taken.
func setSnapshotMeta(ctx context.Context, tx *sql.Tx, snap Snapshot, now time.Time) error {
	meta := map[string]string{}
	if !snap.SessionsMark.IsZero() {
		meta["sessions_mark"] = snap.SessionsMark.UTC().Format(time.RFC3339Nano)
	}
	if !snap.DevicesMark.IsZero() {
		meta["devices_mark"] = snap.DevicesMark.UTC().Format(time.RFC3339Nano)
	}
	if snap.EventID != nil {
		meta["event_id"] = *snap.EventID
	}
	if snap.Complete {
		meta["snapshot_at"] = now.Format(time.RFC3339Nano)
	}
	for k, v := range meta {
		if err := setMeta(ctx, tx, k, v); err != nil {
			return err
		}
	}
	if snap.AuditResume != nil {
		return setAuditResume(ctx, tx, *snap.AuditResume)
	}
	return nil
}

// bulkRows is the size from which a full snapshot rebuilds the sessions
// table's secondary indexes instead of maintaining them row by row.
const bulkRows = 5000

// dropIndexes drops table's secondary indexes (not the primary key's) and
// returns the statements that create them again, as the schema has them.
func dropIndexes(ctx context.Context, tx *sql.Tx, table string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", table)
	if err != nil {
		return nil, fmt.Errorf("cache: apply: %w", err)
	}
	var names, stmts []string
	for rows.Next() {
		var name, stmt string
		if err := rows.Scan(&name, &stmt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("cache: apply: %w", err)
		}
		names, stmts = append(names, name), append(stmts, stmt)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cache: apply: %w", err)
	}
	for _, name := range names {
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+name+`"`); err != nil {
			return nil, fmt.Errorf("cache: apply: %w", err)
		}
	}
	return stmts, nil
}

func setMeta(ctx context.Context, tx *sql.Tx, key, value string) error {
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value); err != nil {
		return fmt.Errorf("cache: meta %s: %w", key, err)
	}
	return nil
}

// prune applies retention: ended sessions and audit events whose last change
// is older than the limit go. Active sessions and devices stay while the
// platform reports them.
func (s *Store) prune(ctx context.Context, tx *sql.Tx, now time.Time) error {
	cutoff := now.Add(-s.retention).UnixNano()
	// Two statements, not one OR: each is a range scan of its own index
	// (see migration 0002), where the OR made SQLite scan the table.
	if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE updated_at < ? AND status <> 'active'", cutoff); err != nil {
		return fmt.Errorf("cache: retention: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at < ?", cutoff); err != nil {
		return fmt.Errorf("cache: retention: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM audit WHERE at < ?", cutoff); err != nil {
		return fmt.Errorf("cache: retention: %w", err)
	}
	return nil
}

func (s *Store) putSessions(ctx context.Context, tx *sql.Tx, items []domain.Session) error {
	return putSealed(ctx, s, tx, "sessions", "session", `INSERT INTO sessions(id, status, mfa, created_at, last_active_at, expires_at, updated_at, sealed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET status = excluded.status, mfa = excluded.mfa, created_at = excluded.created_at,
			last_active_at = excluded.last_active_at, expires_at = excluded.expires_at, updated_at = excluded.updated_at, sealed = excluded.sealed`,
		items, func(it *domain.Session) string { return it.ID }, encodeSession,
		func(it *domain.Session) []any {
			return []any{it.Status, it.MFA, it.CreatedAt.UnixNano(), it.LastActiveAt.UnixNano(), it.ExpiresAt.UnixNano(), it.UpdatedAt.UnixNano()}
		})
}

func (s *Store) putDevices(ctx context.Context, tx *sql.Tx, items []domain.Device) error {
	return putSealed(ctx, s, tx, "devices", "device", `INSERT INTO devices(id, trusted, first_seen_at, last_seen_at, updated_at, sealed)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET trusted = excluded.trusted, first_seen_at = excluded.first_seen_at,
			last_seen_at = excluded.last_seen_at, updated_at = excluded.updated_at, sealed = excluded.sealed`,
		items, func(it *domain.Device) string { return it.ID }, encodeDevice,
		func(it *domain.Device) []any {
			return []any{it.Trusted, it.FirstSeenAt.UnixNano(), it.LastSeenAt.UnixNano(), it.UpdatedAt.UnixNano()}
		})
}

func (s *Store) putAudit(ctx context.Context, tx *sql.Tx, items []domain.AuditEvent) error {
	return putSealed(ctx, s, tx, "audit", "audit", `INSERT INTO audit(id, at, action, sealed) VALUES (?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET at = excluded.at, action = excluded.action, sealed = excluded.sealed`,
		items, func(it *domain.AuditEvent) string { return it.ID }, encodeAudit,
		func(it *domain.AuditEvent) []any { return []any{it.At.UnixNano(), it.Action} })
}

// putSealed upserts items with upsert, whose arguments are a row's id,
// its clear columns (clear) and its sealed blob; table names the rows in
// errors, kind in their sealing (the associated data).
func putSealed[T any](ctx context.Context, s *Store, tx *sql.Tx, table, kind, upsert string, items []T,
	id func(*T) string, encode func([]byte, *T) []byte, clear func(*T) []any) error {
	if len(items) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, upsert)
	if err != nil {
		return fmt.Errorf("cache: %s: %w", table, err)
	}
	defer stmt.Close()
	// Sealed a chunk at a time, the next chunk while this one is written:
	// all of a full sync's blobs at once were another copy of every row
	// (a third of a GB at a million sessions).
	type chunk struct {
		lo    int
		blobs [][]byte
		err   error
	}
	chunks := make(chan chunk, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(chunks)
		for lo := 0; lo < len(items); lo += sealChunk {
			part := items[lo:min(lo+sealChunk, len(items))]
			blobs, err := s.seal.sealRows(kind, len(part), func(i int) string { return id(&part[i]) },
				func(b []byte, i int) []byte { return encode(b, &part[i]) })
			select {
			case chunks <- chunk{lo, blobs, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	args := make([]any, 0, 8) // reused: ExecContext keeps no reference
	for c := range chunks {
		if c.err != nil {
			return c.err
		}
		for j, blob := range c.blobs {
			it := &items[c.lo+j]
			args = append(append(append(args[:0], id(it)), clear(it)...), blob)
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("cache: %s: %w", table, err)
			}
		}
	}
	return nil
}

// sealChunk is how many rows putSealed seals ahead of the writes.
const sealChunk = 8192

// Sessions returns every cached session, decrypted, all at once (a load
// into the index streams them instead: EachSession).
func (s *Store) Sessions(ctx context.Context) ([]domain.Session, error) {
	n, err := s.count(ctx, "sessions")
	if err != nil {
		return nil, err
	}
	return loadRows(ctx, s, sessionRows, n, "SELECT id, sealed FROM sessions")
}

// Devices returns every cached device, decrypted.
func (s *Store) Devices(ctx context.Context) ([]domain.Device, error) {
	n, err := s.count(ctx, "devices")
	if err != nil {
		return nil, err
	}
	return loadRows(ctx, s, deviceRows, n, "SELECT id, sealed FROM devices")
}

// EachSession gives every cached session, decrypted, to take a batch at a
// time, in the order they are stored, while the next ones are being read
// and decrypted (what a load packs into the index, index.Loader, keeping
// no more than a few batches of open rows at once). take may keep the
// rows' strings but not the slice, which is filled again; after an error
// it is not called again.
func (s *Store) EachSession(ctx context.Context, take func([]domain.Session)) error {
	return eachRow(ctx, s, withoutOwn(sessionRows), take, "SELECT id, sealed FROM sessions")
}

// EachDevice is EachSession for the cached devices.
func (s *Store) EachDevice(ctx context.Context, take func([]domain.Device)) error {
	return eachRow(ctx, s, withoutOwn(deviceRows), take, "SELECT id, sealed FROM devices")
}

// Counts is how many sessions and devices the cache holds.
func (s *Store) Counts(ctx context.Context) (sessions, devices int, err error) {
	if sessions, err = s.count(ctx, "sessions"); err == nil {
		devices, err = s.count(ctx, "devices")
	}
	return sessions, devices, err
}

// Audit returns the cached audit log, newest first.
func (s *Store) Audit(ctx context.Context) ([]domain.AuditEvent, error) {
	return loadRows(ctx, s, auditRows, 0, "SELECT id, sealed FROM audit ORDER BY at DESC, id DESC")
}

// count is how many rows table holds (a hint: a write may come between it
// and the read).
func (s *Store) count(ctx context.Context, table string) (int, error) {
	n, err := s.countRows(ctx, "SELECT COUNT(*) FROM "+table)
	if err != nil {
		return 0, fmt.Errorf("cache: count %s: %w", table, err)
	}
	return n, nil
}

// AuditKnown reports whether the event id is cached (the audit feed has no
// updated_since; paging stops at the first known event).
func (s *Store) AuditKnown(ctx context.Context, id string) (bool, error) {
	var n int
	if err := s.conn().QueryRowContext(ctx, "SELECT COUNT(*) FROM audit WHERE id = ?", id).Scan(&n); err != nil {
		return false, fmt.Errorf("cache: audit: %w", err)
	}
	return n > 0, nil
}

// SetMe stores who the profile's token belongs to (sealed), so that the app
// can show the user and their permissions while offline.
func (s *Store) SetMe(ctx context.Context, me domain.Me) error {
	b, err := s.seal.seal("meta", "me", me)
	if err != nil {
		return err
	}
	_, err = s.conn().ExecContext(ctx, "INSERT INTO meta(key, value) VALUES ('me', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", string(b))
	if err != nil {
		return fmt.Errorf("cache: me: %w", err)
	}
	return nil
}

// Me returns the stored identity, if any.
func (s *Store) Me(ctx context.Context) (domain.Me, bool, error) {
	var me domain.Me
	var v string
	err := s.conn().QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'me'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return me, false, nil
	}
	if err != nil {
		return me, false, fmt.Errorf("cache: me: %w", err)
	}
	if err := s.seal.open("meta", "me", []byte(v), &me); err != nil {
		return me, false, err
	}
	return me, true, nil
}
