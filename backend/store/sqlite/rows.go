package sqlite

import (
	"database/sql"
	"strings"
	"time"

	"sessiondesk/backend/store"
)

// What the reads of several rows share: reading the rows, cutting a page,
// and the keyset conditions of the session and device lists.

// scanner is a row: *sql.Row and *sql.Rows both have Scan.
type scanner = interface{ Scan(...any) error }

// collect reads every row with scan and closes rows; capHint sizes the
// slice. It takes QueryContext's answer as is, so a call reads
// collect(db.QueryContext(...)).
func collect[T any](rows *sql.Rows, err error, capHint int, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]T, 0, capHint)
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// pageLimit is a list's page size: f.Limit, 100 when unset.
func pageLimit(limit int) int {
	if limit <= 0 {
		return 100
	}
	return limit
}

// cutPage makes a page of the rows of a query asked for limit+1: one row
// more than asked for tells that another page exists without a COUNT.
func cutPage[T any](items []T, limit int, keyOf func(T) store.Key) store.Page[T] {
	page := store.Page[T]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		k := keyOf(page.Items[limit-1])
		page.Next = &k
	}
	return page
}

// listKeyset appends to a session or device list's condition the keyset of
// its order and returns the ORDER BY: the feed (updated_at, id) after
// updatedSince when set, else created (created_at or first_seen_at) and id
// newest first. t is the table's alias.
func listKeyset(where *strings.Builder, args []any, t, created string, updatedSince *time.Time, after *store.Key) ([]any, string) {
	if updatedSince == nil {
		if after != nil {
			where.WriteString(` AND (` + t + `.` + created + `, ` + t + `.id) < (?, ?)`)
			args = append(args, nanos(after.At), after.ID)
		}
		return args, ` ORDER BY ` + t + `.` + created + ` DESC, ` + t + `.id DESC`
	}
	if after != nil && after.At.After(*updatedSince) {
		// The cursor implies updated_at > UpdatedSince. Given alone, the
		// row value is the index range (org_id, (updated_at, id) > …), so
		// a page seeks to the cursor. Beside updated_at > ? SQLite ranged
		// on updated_at only and stepped over every earlier index entry of
		// a shared timestamp: walking the feed after a terminate-all of
		// 100,000 sessions (one timestamp) stepped over 5 million entries
		// and took 3.1 s instead of 2.0 s.
		where.WriteString(` AND (` + t + `.updated_at, ` + t + `.id) > (?, ?)`)
		args = append(args, nanos(after.At), after.ID)
	} else {
		where.WriteString(` AND ` + t + `.updated_at > ?`)
		args = append(args, nanos(*updatedSince))
		if after != nil {
			where.WriteString(` AND (` + t + `.updated_at, ` + t + `.id) > (?, ?)`)
			args = append(args, nanos(after.At), after.ID)
		}
	}
	return args, ` ORDER BY ` + t + `.updated_at, ` + t + `.id`
}

// scanString scans a row of one text column.
func scanString(sc scanner) (string, error) {
	var s string
	err := sc.Scan(&s)
	return s, err
}
