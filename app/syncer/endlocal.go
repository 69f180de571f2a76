package syncer

// Ending sessions locally. After the platform confirmed a bulk end
// (terminate-all, terminate-selected, sign-out-everywhere), the list must
// show those sessions ended at once: at 1,000,000 sessions the sync that
// brings the ended rows home reads a million changed rows (~2.5 min),
// during which the list still said "active". EndLocally and
// EndLocallyWhere mark them ended in the index only.
//
// The sync's truth wins. A mark is a guess about rows the platform will
// send; it is written to the index and nowhere else:
//   - The mark keeps the row's UpdatedAt. The platform's ended row has a
//     later one, so the next delta's rows are "fresh" (applyDelta) and
//     replace the marks; a row the delta repeats at the same UpdatedAt (the
//     overlap, or a sync that read it before the action) is dropped as a
//     repeat and the mark stays until the real row comes. A mark stamped
//     with the workstation's time instead would hide the platform's row
//     for good: the delta would look older than the guess.
//   - The cache is not written. It stays the platform's copy, so its
//     watermarks (cache.State) and the rows a restart loads never hold a
//     guess; a restart before the next sync shows the sessions active
//     again until that sync, which is the truth as last read. Writing
//     them would also mean sealing and storing up to a million rows that
//     the next sync writes again a minute later.
//   - A full sync (Adopt) replaces every mark with what it read.
//
// What to mark. A mark must name only sessions the platform did end: one
// that began (or changed) after the action reached the platform may still
// be active there, and a mark on it would show it ended until it next
// changes, since no delta brings an unchanged row. The caller reads
// SessionsMark before sending the action and marks only rows not changed
// after it: those the platform had stamped before the index last took its
// changes, so before the action, on the platform's own clock (the
// workstation's estimate of that clock is a second off either way, and a
// row used in that second is the common case, not the rare one).
//
// Locks. A mark does not take the sync lock (runMu): a sync at a million
// rows holds it for minutes, and the mark is wanted now. It is one write
// of the index (index.Table.Update, under the table's writers' lock), so
// it never interleaves with a sync's Upsert of the same rows, and readers
// keep the previous snapshot until it is published. Update waits for
// Load's rows like every index writer.

import (
	"context"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
)

// releaseAfterMarks is how many marked rows make a mark large enough to hand
// the freed heap back afterwards (see release): ending most of a big table
// copies most of its chunks, and the old ones are garbage at once.
const releaseAfterMarks = 100_000

// EndLocally marks the sessions ids (those the index holds active) ended by
// by (nil: not known) at the platform's clock, in the index only (see the
// file comment), and tells the listener. It reports how many it marked.
// Call it only after the platform confirmed their end.
func (s *Syncer) EndLocally(ids []string, by *domain.Person) int {
	if len(ids) == 0 {
		return 0
	}
	return s.endLocally(ids, func(*domain.Session) bool { return true }, by)
}

// EndLocallyWhere is EndLocally for every active session pred accepts
// (terminate-all, a person's sessions). pred sees each row of the table,
// read-only.
func (s *Syncer) EndLocallyWhere(pred func(*domain.Session) bool, by *domain.Person) int {
	return s.endLocally(nil, pred, by)
}

func (s *Syncer) endLocally(ids []string, pred func(*domain.Session) bool, by *domain.Person) int {
	now := s.cfg.ServerNow().UTC()
	// One value shared by every marked row: rows are never written
	// through their pointers, and a million allocations would cost more
	// than the mark.
	at := &now
	if by != nil {
		p := *by
		by = &p
	}
	n := s.cfg.Sessions.Update(ids, func(x *domain.Session) bool {
		if index.EffectiveStatus(x, now) != domain.StatusActive || !pred(x) {
			return false
		}
		x.Status, x.TerminatedAt, x.TerminatedBy = domain.StatusTerminated, at, by
		return true // UpdatedAt stays the platform's: see the file comment
	})
	if n == 0 {
		return 0
	}
	s.cfg.Log.Info("sessions marked ended until the sync brings them", "sessions", n)
	warmed := s.warm()
	if n >= releaseAfterMarks {
		s.release(warmed)
	}
	if s.cfg.Listener != nil {
		s.cfg.Listener.Changed("sessions")
	}
	return n
}

// SessionsMark is the highest UpdatedAt of the platform's sessions the
// cache has taken: every session changed on the platform up to it is in
// the index as of that change. Read before a bulk end, it bounds the rows
// a mark may name (see the file comment).
func (s *Syncer) SessionsMark(ctx context.Context) (time.Time, error) {
	st, err := s.cfg.Store.State(ctx)
	return st.SessionsMark, err
}
