package postgres

import (
	"context"
	"math"
	"sort"

	"github.com/jackc/pgx/v5"

	"sessiondesk/backend/store"
)

// ChangeHead is the write clock: the updated_at of the last committed
// stamping write. Stamps are handed out in commit order (see the package
// comment), so every change at or below it has committed.
func (d *DB) ChangeHead(ctx context.Context) (store.ChangePos, error) {
	var last int64
	if err := d.pool.QueryRow(ctx, `SELECT last FROM write_clock WHERE id = 1`).Scan(&last); err != nil {
		return store.ChangePos{}, wrap("change head", err)
	}
	return store.ChangePos{At: fromNanos(last), Rank: store.RankEnd}, nil
}

// Changes reads the organization's sessions, devices and audit events after
// the position and merges them. The four statements run in one REPEATABLE
// READ read-only transaction, so they share one snapshot; the write clock
// read in it is the horizon: every stamp at or below it committed before
// the snapshot (commit order), so those rows are all visible and no later
// read can add one below it, while rows above it belong to transactions
// the snapshot does not see and are left for the next read. The bound also
// keeps the merge exact when one table has more rows than another past the
// position.
func (d *DB) Changes(ctx context.Context, orgID string, after store.ChangePos, limit int) ([]store.Change, error) {
	limit = store.PageLimit(limit)
	var out []store.Change
	err := pgx.BeginTxFunc(ctx, d.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		out = out[:0]
		var horizon int64
		if err := tx.QueryRow(ctx, `SELECT last FROM write_clock WHERE id = 1`).Scan(&horizon); err != nil {
			return err
		}
		read := func(cols, from, alias string, rank int, scan func(scanner) (store.Change, error)) error {
			atCol, idCol := alias+".updated_at", alias+".id"
			if alias == "a" {
				atCol = "a.at"
			}
			var a args
			where := changeCond(&a, atCol, idCol, rank, after)
			rows, err := tx.Query(ctx, `SELECT `+cols+from+`WHERE `+alias+`.org_id = `+a.add(orgID)+` AND `+where+
				` AND `+atCol+` <= `+a.add(horizon)+` ORDER BY `+atCol+`, `+idCol+` LIMIT `+a.add(limit), a...)
			changes, err := collect(rows, err, 0, scan)
			out = append(out, changes...)
			return err
		}
		if err := read(sessionCols, sessionFrom, "s", store.RankSession, func(sc scanner) (store.Change, error) {
			s, err := scanSession(sc)
			return store.Change{Pos: store.ChangePos{At: s.UpdatedAt, Rank: store.RankSession, ID: s.ID}, Session: &s}, err
		}); err != nil {
			return err
		}
		if err := read(deviceCols, deviceFrom, "d", store.RankDevice, func(sc scanner) (store.Change, error) {
			dv, err := scanDevice(sc)
			return store.Change{Pos: store.ChangePos{At: dv.UpdatedAt, Rank: store.RankDevice, ID: dv.ID}, Device: &dv}, err
		}); err != nil {
			return err
		}
		return read(auditCols, auditFrom, "a", store.RankAudit, func(sc scanner) (store.Change, error) {
			e, err := scanAudit(sc)
			return store.Change{Pos: store.ChangePos{At: e.At, Rank: store.RankAudit, ID: e.ID}, Audit: &e}, err
		})
	})
	if err != nil {
		return nil, wrap("changes", err)
	}
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
func changeCond(a *args, col, idCol string, rank int, after store.ChangePos) string {
	at := int64(math.MinInt64) // the zero position: before everything
	if !after.At.IsZero() {
		at = nanos(after.At)
	}
	switch {
	case rank > after.Rank:
		return col + ` >= ` + a.add(at)
	case rank < after.Rank:
		return col + ` > ` + a.add(at)
	default:
		return `(` + col + `, ` + idCol + `) > (` + a.add(at) + `, ` + a.add(after.ID) + `)`
	}
}
