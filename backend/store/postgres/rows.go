package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sessiondesk/backend/store"
)

// What the reads of several rows share: reading the rows and the feed
// condition of the session and device lists.

// scanner is a row: pgx.Row and pgx.Rows both have Scan.
type scanner = interface{ Scan(...any) error }

// collect reads every row with scan and closes rows; capHint sizes the
// slice. It takes Query's answer as is, so a call reads
// collect(pool.Query(...)).
func collect[T any](rows pgx.Rows, err error, capHint int, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.Collect(rows, capHint, func(r pgx.Rows) (T, error) { return scan(r) })
}

// feedCond appends the condition of a session or device feed page, the
// rows of table alias t changed after updatedSince and after the cursor,
// and returns its ORDER BY.
func feedCond(where *strings.Builder, a *args, t string, updatedSince time.Time, after *store.Key) string {
	if after != nil && after.At.After(updatedSince) {
		// The cursor implies updated_at > UpdatedSince. Given alone, the
		// row comparison is where the index scan starts; beside a separate
		// updated_at > $n the scan could start at that bound and step over
		// every entry of a timestamp shared by a terminate-all (as SQLite
		// did; see the SQLite store).
		where.WriteString(` AND (` + t + `.updated_at, ` + t + `.id) > (` + a.add(nanos(after.At)) + `, ` + a.add(after.ID) + `)`)
	} else {
		where.WriteString(` AND ` + t + `.updated_at > ` + a.add(nanos(updatedSince)))
		if after != nil {
			where.WriteString(` AND (` + t + `.updated_at, ` + t + `.id) > (` + a.add(nanos(after.At)) + `, ` + a.add(after.ID) + `)`)
		}
	}
	return ` ORDER BY ` + t + `.updated_at, ` + t + `.id`
}

// createdCond appends the keyset condition of a page in creation order,
// newest first, of table alias t by column col, and returns its ORDER BY.
func createdCond(where *strings.Builder, a *args, t, col string, after *store.Key) string {
	if after != nil {
		where.WriteString(` AND (` + t + `.` + col + `, ` + t + `.id) < (` + a.add(nanos(after.At)) + `, ` + a.add(after.ID) + `)`)
	}
	return ` ORDER BY ` + t + `.` + col + ` DESC, ` + t + `.id DESC`
}

// getOne reads the row of the organization's table (alias t) with the id;
// a missing one, or another organization's, is a NotFound naming noun.
func getOne[T any](ctx context.Context, q querier, cols, from, t, noun, orgID, id string, scan func(scanner) (T, error)) (T, error) {
	v, err := scan(q.QueryRow(ctx, `SELECT `+cols+from+`WHERE `+t+`.id = $1 AND `+t+`.org_id = $2`, id, orgID))
	if errors.Is(err, pgx.ErrNoRows) {
		return v, store.Errorf(store.ENotFound, "%s not found", noun)
	}
	return v, err
}
