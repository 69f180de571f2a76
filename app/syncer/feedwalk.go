package syncer

import (
	"context"
	"fmt"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
)

// pending is a sync that broke off half way: the pages it gathered and
// where each walk goes on. It is resumed only from the same cache state.
type pending struct {
	from     cache.State
	sessions feedWalk[domain.Session]
	devices  feedWalk[domain.Device]
	// The audit log is walked from the newest event down (audit) and from
	// the first stored resume cursor down (auditGap, done at once when
	// there is none); auditRest are the other stored cursors, kept as they
	// are (see syncAudit).
	audit     feedWalk[domain.AuditEvent]
	auditGap  feedWalk[domain.AuditEvent]
	auditRest []string
	// in shares the repeated strings of the rows gathered (see
	// domain.Interner): a full sync holds every row until it is written.
	in *domain.Interner
}

// feedWalk is one list read page by page: the rows so far, the cursor
// after the last good page and how many pages that took. It is done when
// the list ended or a stop row was met; a walk that ran out of its page
// budget is not done, and its cursor is where a later sync goes on.
type feedWalk[T any] struct {
	items  []T
	cursor string
	pages  int
	done   bool
}

// feed is how a list is walked (see walkFeed).
type feed[T any] struct {
	phase string
	list  func(ctx context.Context, limit int, cursor string) ([]T, string, error)
	// maxLimit, when not 0, caps the page size the link allows.
	maxLimit int
	// probe, when not 0, is the size of the walk's first page, which does
	// not count towards budget.
	probe int
	// budget, when not 0, is how many pages the walk reads.
	budget int
	// stop, when set, ends the walk at the first row it holds true for;
	// that row and the rest of its page are not kept.
	stop func(T) bool
	// intern, when set, is given each page's rows before they are kept.
	intern func([]T)
}

// auditProbe is the size of a sync's first audit request.
const auditProbe = 20

// pagesOf is a feed's list over a provider's list: pages changed since
// since (zero: the audit log, which has no change feed).
func pagesOf[T any](list func(context.Context, domain.PageRequest) (domain.Page[T], error), since time.Time) func(ctx context.Context, limit int, cursor string) ([]T, string, error) {
	return func(ctx context.Context, limit int, cursor string) ([]T, string, error) {
		page, err := list(ctx, domain.PageRequest{Limit: limit, Cursor: cursor, Since: since})
		return page.Items, page.Next, err
	}
}

// Page sizes the link adapts between (see the package comment).
const (
	minPage   = 50
	slowPage  = 2 * time.Second
	quickPage = 500 * time.Millisecond
)

// PageSize is the page size the next sync asks for, as adapted to the link.
func (s *Syncer) PageSize() int {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	return s.pageSize
}

// adapt learns from one page: how long it took, and whether it was full.
// Only a page of the adapted size grows it: a quick page asked smaller (the
// audit log's probe, or its pages capped at 200) says nothing about room
// for more.
func (s *Syncer) adapt(took time.Duration, rows int, asked int) {
	switch {
	case took > slowPage && s.pageSize > minPage:
		s.pageSize = max(minPage, s.pageSize/2)
		s.cfg.Log.Info("slow link: smaller pages", "page_size", s.pageSize, "took", took)
	case took < quickPage && rows >= asked && asked >= s.pageSize && s.pageSize < s.cfg.PageSize:
		s.pageSize = min(s.cfg.PageSize, s.pageSize*2)
	}
}

// walkFeed reads a list from where w stopped until its end, a stop row or
// its page budget. A page that fails leaves w at the last good cursor, so
// that the next sync asks for no page it already has; one that failed on a
// time limit also halves the page size, so the resumed walk asks for less.
func walkFeed[T any](ctx context.Context, s *Syncer, w *feedWalk[T], f feed[T]) error {
	budget := f.budget
	if budget > 0 && f.probe > 0 {
		budget++
	}
	for !w.done && (budget == 0 || w.pages < budget) {
		limit := s.pageSize
		if f.maxLimit > 0 {
			limit = min(limit, f.maxLimit)
		}
		if f.probe > 0 && w.pages == 0 {
			limit = min(limit, f.probe)
		}
		start := time.Now()
		items, next, err := f.list(ctx, limit, w.cursor)
		if err != nil {
			if domain.Answered(err) || domain.IsUnreachable(err) {
				// Never below the configured size: that is the most a
				// page may hold.
				s.pageSize = max(min(minPage, s.cfg.PageSize), s.pageSize/2)
			}
			return fmt.Errorf("sync %s: %w", f.phase, err)
		}
		s.adapt(time.Since(start), len(items), limit)
		w.pages++
		for i, it := range items {
			if f.stop != nil && f.stop(it) {
				items, w.done = items[:i], true
				break
			}
		}
		if f.intern != nil {
			f.intern(items)
		}
		w.items = append(w.items, items...)
		s.progress(f.phase, len(w.items))
		if next == "" || len(items) == 0 {
			w.done = true
		} else if !w.done {
			w.cursor = next
		}
	}
	return nil
}

// syncAudit reads into pend the audit events newer than those held, going
// on from where an interrupted sync stopped, like the feeds (walkFeed).
//
// The log is newest first, without a delta feed: a sync reads from the
// newest event down to one already held. The first request is a small
// probe: in the usual sync nothing happened, its first event is known, and
// 200 events fetched and decoded every 30 s would be waste. It does not
// count towards AuditPages. When AuditPages runs out before a held event,
// the end of the log or the retention limit is reached (a burst of events
// during a long offline gap), the position is kept as a resume cursor in
// the cache, with the data, and the next syncs read on from there, one
// stretch per sync, until the gap is closed: stopping for good at the newest
// known event would leave a permanent hole in the log.
//
// A walk resumed after a broken page misses nothing: the log is keyset
// paged, so its cursor still points below the events read, and events
// written meanwhile are above the newest one read, which the next sync's
// probe reaches down to.
func (s *Syncer) syncAudit(ctx context.Context, pend *pending) error {
	cutoff := s.cfg.ServerNow().Add(-s.cfg.Store.Retention())
	f := feed[domain.AuditEvent]{phase: "audit", maxLimit: 200, budget: s.cfg.AuditPages,
		list: pagesOf(s.cfg.Source.Audit, time.Time{}),
		stop: func(e domain.AuditEvent) bool {
			_, known := s.cfg.Audit.Get(e.ID)
			return known || e.At.Before(cutoff)
		}}
	head := f
	head.probe = auditProbe
	if err := walkFeed(ctx, s, &pend.audit, head); err != nil {
		return err
	}
	return walkFeed(ctx, s, &pend.auditGap, f)
}

// auditResume is the audit log's resume cursors after pend's walks: where
// each ran out of its page budget, then the stored cursors not walked.
func (p *pending) auditResume() *[]string {
	keep := []string{}
	for _, w := range []*feedWalk[domain.AuditEvent]{&p.audit, &p.auditGap} {
		if !w.done {
			keep = append(keep, w.cursor)
		}
	}
	keep = append(keep, p.auditRest...)
	return &keep
}

func since(mark time.Time) time.Time {
	if mark.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return mark.Add(-overlap)
}
