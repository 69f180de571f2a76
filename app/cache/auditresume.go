package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// maxAuditResume bounds the resume cursors kept: each marks a stretch of the
// audit log that one sync's page budget did not reach. Past this many, the
// oldest stretches are given up.
const maxAuditResume = 16

// AuditResume returns the audit log's resume cursors, newest stretch first:
// each is where a sync stopped reading older events because its page budget
// ran out before it reached an event already held, the end of the log or
// the retention limit. The next syncs read on from there, so a burst of
// events larger than one sync reads never leaves a permanent hole. The
// cursors are opaque platform positions (a time and an id), no personal data.
func (s *Store) AuditResume(ctx context.Context) ([]string, error) {
	var v string
	err := s.conn().QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'audit_resume'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cache: audit resume: %w", err)
	}
	var out []string
	if json.Unmarshal([]byte(v), &out) != nil {
		return nil, nil // unreadable: read from the newest again, that is all
	}
	return out, nil
}

func setAuditResume(ctx context.Context, tx *sql.Tx, cursors []string) error {
	if len(cursors) == 0 {
		if _, err := tx.ExecContext(ctx, "DELETE FROM meta WHERE key = 'audit_resume'"); err != nil {
			return fmt.Errorf("cache: audit resume: %w", err)
		}
		return nil
	}
	if len(cursors) > maxAuditResume {
		cursors = cursors[:maxAuditResume]
	}
	b, err := json.Marshal(cursors)
	if err != nil {
		return fmt.Errorf("cache: audit resume: %w", err)
	}
	return setMeta(ctx, tx, "audit_resume", string(b))
}

// Retention is how long ended sessions and audit events are kept.
func (s *Store) Retention() time.Duration { return s.retention }
