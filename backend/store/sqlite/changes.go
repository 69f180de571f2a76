package sqlite

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"sessiondesk/backend/store"
)

// ChangeHead is the write clock: the updated_at of the last committed write.
func (d *DB) ChangeHead(ctx context.Context) (store.ChangePos, error) {
	var last int64
	if err := d.db.QueryRowContext(ctx, `SELECT last FROM write_clock WHERE id = 1`).Scan(&last); err != nil {
		return store.ChangePos{}, fmt.Errorf("sqlite: change head: %w", err)
	}
	return store.ChangePos{At: fromNanos(last), Rank: store.RankEnd}, nil
}

// Changes reads the organization's sessions, devices and audit events after
// the position, each with one statement, and merges them.
//
// The three statements see three snapshots, so each is bounded by the write
// clock read first (the horizon): every transaction with a timestamp at or
// below it has committed (one writer, timestamps taken inside the
// transaction), so the rows at or below the horizon no later snapshot can
// add to. Without the bound, a session committed between the sessions and
// the devices statement could fall behind a device of a later transaction
// and be skipped. A row changed again after the horizon is left for the next
// read, at its new position.
func (d *DB) Changes(ctx context.Context, orgID string, after store.ChangePos, limit int) ([]store.Change, error) {
	limit = store.PageLimit(limit)
	head, err := d.ChangeHead(ctx)
	if err != nil {
		return nil, err
	}
	horizon := nanos(head.At)
	// Each table in turn, after the position and at or below the horizon.
	read := func(cols, from, t, at string, rank int, scan func(scanner) (store.Change, error)) ([]store.Change, error) {
		where, args := changeCond(t+"."+at, t+".id", rank, after)
		rows, err := d.db.QueryContext(ctx, `SELECT `+cols+from+`WHERE `+t+`.org_id = ? AND `+where+
			` AND `+t+`.`+at+` <= ? ORDER BY `+t+`.`+at+`, `+t+`.id LIMIT ?`, append(append([]any{orgID}, args...), horizon, limit)...)
		return collect(rows, err, 0, scan)
	}
	sessions, err := read(sessionCols, sessionFrom, "s", "updated_at", store.RankSession, func(sc scanner) (store.Change, error) {
		s, err := scanSession(sc)
		return store.Change{Pos: store.ChangePos{At: s.UpdatedAt, Rank: store.RankSession, ID: s.ID}, Session: &s}, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: changes: %w", err)
	}
	devices, err := read(deviceCols, deviceFrom, "d", "updated_at", store.RankDevice, func(sc scanner) (store.Change, error) {
		dv, err := scanDevice(sc)
		return store.Change{Pos: store.ChangePos{At: dv.UpdatedAt, Rank: store.RankDevice, ID: dv.ID}, Device: &dv}, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: changes: %w", err)
	}
	audit, err := read(auditCols, auditFrom, "a", "at", store.RankAudit, func(sc scanner) (store.Change, error) {
		e, err := scanAudit(sc)
		return store.Change{Pos: store.ChangePos{At: e.At, Rank: store.RankAudit, ID: e.ID}, Audit: &e}, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: changes: %w", err)
	}
	out := slices.Concat(sessions, devices, audit)

	// Each table gave its first limit rows, so the first limit of the merge
	// are exactly the first limit changes.
	sort.Slice(out, func(i, j int) bool { return out[i].Pos.Less(out[j].Pos) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// changeCond is "(col, rank, id) > after" for a table whose rows all have
// the given rank, written so that the (org_id, col, id) index serves it.
func changeCond(col, idCol string, rank int, after store.ChangePos) (string, []any) {
	at := int64(math.MinInt64) // the zero position: before everything
	if !after.At.IsZero() {
		at = nanos(after.At)
	}
	switch {
	case rank > after.Rank:
		return col + ` >= ?`, []any{at}
	case rank < after.Rank:
		return col + ` > ?`, []any{at}
	default:
		return `(` + col + `, ` + idCol + `) > (?, ?)`, []any{at, after.ID}
	}
}
