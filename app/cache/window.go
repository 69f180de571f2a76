package cache

import (
	"context"
	"fmt"

	"sessiondesk/app/domain"
)

// SessionFilter is the sessions list's filter expressed over the clear
// columns.
type SessionFilter struct {
	// ActiveAt, when non-zero (UnixNano), keeps only sessions active at that
	// instant: status "active" and expiring after it. Zero keeps all.
	ActiveAt int64
}

// WindowSorts are the sessions sort keys SQL can order by: the clear
// columns. The others (user, client, ip, location) are sealed.
var WindowSorts = map[string]bool{"created_at": true, "last_active_at": true, "expires_at": true, "mfa": true, "status": true}

func (f SessionFilter) where() (string, []any) {
	if f.ActiveAt == 0 {
		return "", nil
	}
	return " WHERE status = 'active' AND expires_at > ?", []any{f.ActiveAt}
}

// SessionWindow returns rows [offset, offset+limit) of the sessions matching
// f in the order of sort (one of WindowSorts; ties by id, both reversed when
// desc), decrypting only those rows, and how many match in all. It answers
// the list while the in-memory index is still being built, in exactly the
// index's order (see package index: key, then id).
func (s *Store) SessionWindow(ctx context.Context, f SessionFilter, sort string, desc bool, offset, limit int) ([]domain.Session, int, error) {
	if !WindowSorts[sort] {
		return nil, 0, fmt.Errorf("cache: sessions cannot be ordered by %q in SQL", sort)
	}
	total, err := s.CountSessions(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	where, args := f.where()
	q := "SELECT id, sealed FROM sessions" + where + " ORDER BY " + sort + dir + ", id" + dir + " LIMIT ? OFFSET ?"
	rows, err := loadRows(ctx, s, sessionRows, 0, q, append(args, max(limit, 0), max(offset, 0))...)
	if err != nil {
		return nil, 0, err
	}
	return rows, total, nil
}

// CountSessions counts the sessions matching f.
func (s *Store) CountSessions(ctx context.Context, f SessionFilter) (int, error) {
	where, args := f.where()
	n, err := s.countRows(ctx, "SELECT COUNT(*) FROM sessions"+where, args...)
	if err != nil {
		return 0, fmt.Errorf("cache: count sessions: %w", err)
	}
	return n, nil
}
