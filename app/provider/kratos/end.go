package kratos

import (
	"context"
	"crypto/rand"
	"slices"
	"strconv"
	"sync"

	"sessiondesk/app/domain"
	admin "sessiondesk/app/kratos"
)

// concurrency bounds the ends in flight for a chosen set or all sessions:
// enough to end 10,000 sessions in about a minute on a near Kratos, few
// enough not to crowd out its other users.
const concurrency = 4

// Audit serves the actions taken through this provider in this run,
// newest first (the cache keeps earlier runs'); the cursor is an offset.
func (p *Provider) Audit(ctx context.Context, r domain.PageRequest) (domain.Page[domain.AuditEvent], error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	from, _ := strconv.Atoi(r.Cursor)
	from = min(max(from, 0), len(p.audit))
	to := min(from+max(r.Limit, 1), len(p.audit))
	page := domain.Page[domain.AuditEvent]{Items: slices.Clone(p.audit[from:to])}
	if to < len(p.audit) {
		page.Next = strconv.Itoa(to)
	}
	return page, nil
}

// record notes an action in the provider's log.
func (p *Provider) record(e domain.AuditEvent) {
	e.ID = "ws-" + rand.Text() // 128 random bits: unique across runs and workstations
	// Like platformd's log, an event names at most the first MaxTargetIDs
	// sessions (Count says how many ended); the desk reads no more, and an
	// end-all of 100,000 would otherwise seal megabytes into one cache row.
	e.TargetIDs = e.TargetIDs[:min(len(e.TargetIDs), domain.MaxTargetIDs)]
	e.At = p.Now()
	e.Actor = p.actor()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.audit = append([]domain.AuditEvent{e}, p.audit...)
}

// EndSession ends one session (DELETE /admin/sessions/{id}) and reads it
// back as it now is.
func (p *Provider) EndSession(ctx context.Context, id, reason string) (domain.Session, error) {
	p.mu.Lock()
	k, wasKnown := p.known[id]
	wasActive := !wasKnown || k.s.Status == domain.StatusActive
	p.mu.Unlock()
	if err := p.c.RevokeSession(ctx, id); err != nil {
		return domain.Session{}, domainError(err)
	}
	now := p.Now()
	if wasActive {
		p.mu.Lock()
		p.ended[id] = now
		p.mu.Unlock()
	}
	ks, err := p.c.GetSession(ctx, id)
	if err != nil {
		return domain.Session{}, domainError(err)
	}
	p.mu.Lock()
	s := p.remember(ks, now, p.walkOf(id))
	p.dirty[id] = true
	p.mu.Unlock()
	if wasActive {
		tid, who := id, s.User
		p.record(domain.AuditEvent{Action: domain.ActionSessionTerminate, TargetID: &tid, TargetUser: &who,
			TargetLabel: s.Client, Count: 1, Reason: reason})
	}
	return s, nil
}

// walkOf is the walk a known session was last seen in (the current one for
// a new one). The caller holds mu.
func (p *Provider) walkOf(id string) int {
	if k, ok := p.known[id]; ok {
		return k.walk
	}
	return p.walk
}

// EndSessions ends the chosen sessions one by one, concurrency at a time.
// Terminated counts those that were active (as far as the provider knows);
// NotFound those Kratos has not.
func (p *Provider) EndSessions(ctx context.Context, ids []string, reason string) (domain.Ended, error) {
	if len(ids) > domain.MaxSelected {
		return domain.Ended{}, &domain.Error{Kind: domain.KindInvalid, Reason: domain.ReasonTooManySelected, Args: []any{domain.MaxSelected}}
	}
	res, ended, err := p.endEach(ctx, ids, nil)
	if len(ended) > 0 {
		p.record(domain.AuditEvent{Action: domain.ActionSessionsTerminateSelected, TargetIDs: ended, Count: len(ended), Reason: reason})
	}
	return res, err
}

// endEach ends ids with bounded concurrency, reporting progress after
// each. It stops at the first failure other than "not found" and returns
// what it did so far with it.
func (p *Provider) endEach(ctx context.Context, ids []string, progress func(domain.Progress)) (domain.Ended, []string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		id  string
		err error
	}
	work := make(chan string)
	results := make(chan result)
	var wg sync.WaitGroup
	for range min(concurrency, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				results <- result{id, p.c.RevokeSession(ctx, id)}
			}
		}()
	}
	go func() {
		defer close(work)
		for _, id := range ids {
			select {
			case work <- id:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	var res domain.Ended
	var ended []string
	var firstErr error
	done := 0
	for r := range results {
		done++
		switch {
		case r.err == nil:
			now := p.Now()
			p.mu.Lock()
			k, ok := p.known[r.id]
			if !ok || k.s.Status == domain.StatusActive {
				res.Terminated++
				ended = append(ended, r.id)
				p.ended[r.id] = now
				if ok { // shown ended at once; the next read confirms it
					s := k.s
					by := p.actor()
					s.Status, s.TerminatedAt, s.TerminatedBy, s.UpdatedAt = domain.StatusTerminated, &now, &by, later(now, s.UpdatedAt)
					k.s = s
					p.dirty[r.id] = true
				}
			}
			p.mu.Unlock()
		case admin.KindOf(r.err) == admin.KindNotFound || admin.KindOf(r.err) == admin.KindInvalid:
			res.NotFound = append(res.NotFound, r.id)
		case firstErr == nil:
			firstErr = domainError(r.err)
			cancel()
		}
		if progress != nil {
			progress(domain.Progress{Done: done, Total: len(ids)})
		}
	}
	return res, ended, firstErr
}

// EndPersonSessions signs one person out everywhere (DELETE
// /admin/identities/{id}/sessions, which deletes their sessions). With an
// admin key there is no own session, so keepCurrent changes nothing.
func (p *Provider) EndPersonSessions(ctx context.Context, personID string, keepCurrent bool, reason string) (domain.Ended, error) {
	if err := p.c.RevokeIdentitySessions(ctx, personID); err != nil {
		return domain.Ended{}, domainError(err)
	}
	now := p.Now()
	p.mu.Lock()
	var ids []string
	var who *domain.Person
	for id, k := range p.known {
		if k.s.User.ID != personID {
			continue
		}
		s := k.s
		u := s.User
		who = &u
		if s.Status == domain.StatusActive {
			ids = append(ids, id)
			by := p.actor()
			s.Status, s.TerminatedAt, s.TerminatedBy = domain.StatusTerminated, &now, &by
		}
		s.UpdatedAt = later(now, s.UpdatedAt)
		p.gone[id] = s
		delete(p.known, id)
	}
	p.mu.Unlock()
	slices.Sort(ids)
	if len(ids) > 0 {
		label := ""
		if who != nil {
			label = who.Email
		}
		p.record(domain.AuditEvent{Action: domain.ActionUserSessionsTerminate, TargetID: &personID, TargetUser: who,
			TargetLabel: label, TargetIDs: ids, Count: len(ids), Reason: reason})
	}
	return domain.Ended{Terminated: len(ids)}, nil
}

// EndAllSessions walks the active sessions and ends them, concurrency at a
// time, reporting progress (Total is Kratos' count at the start). A failure
// stops it; running it again ends what is left. There is no own session to
// keep with an admin key.
func (p *Provider) EndAllSessions(ctx context.Context, keepCurrent bool, reason string, progress func(domain.Progress)) (domain.Ended, error) {
	var ids []string
	cursor := ""
	for {
		page, err := p.c.ListSessions(ctx, admin.ListOptions{PageToken: cursor, PageSize: admin.MaxPageSize, Active: admin.ActiveSessions})
		if err != nil {
			return domain.Ended{}, domainError(err)
		}
		for _, s := range page.Sessions {
			ids = append(ids, s.ID)
		}
		if page.NextPageToken == "" {
			break
		}
		cursor = page.NextPageToken
	}
	ids = uniq(ids) // a page may repeat (admin.Page.MayRepeat)
	if progress != nil {
		progress(domain.Progress{Total: len(ids)})
	}
	res, ended, err := p.endEach(ctx, ids, progress)
	if len(ended) > 0 {
		p.record(domain.AuditEvent{Action: domain.ActionSessionsTerminateAll, TargetIDs: ended, Count: len(ended), Reason: reason})
	}
	return res, err
}

func uniq(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
