package kratos

import (
	"context"
	"fmt"
	"strings"
	"time"

	"sessiondesk/app/domain"
	admin "sessiondesk/app/kratos"
	"sessiondesk/backend/useragent"
)

// deltaPage is the page size of a delta's reads: the usual poll finds
// nothing new, and a page of 100 expanded sessions costs Kratos ~30 ms
// where one of 1,000 costs ten times as much.
const deltaPage = 100

// seen is what the provider last gave of one session.
type seen struct {
	s           domain.Session
	fingerprint string
	walk        int
}

// Sessions reads one page: a full walk when r.Since is the epoch (or
// zero), else a delta that stops at the first page holding a known session.
// The last page of either carries the sessions a person's sign-out deleted.
func (p *Provider) Sessions(ctx context.Context, r domain.PageRequest) (domain.Page[domain.Session], error) {
	full := r.Since.Unix() <= 0
	size := min(max(r.Limit, 1), admin.MaxPageSize)
	if !full {
		size = min(size, deltaPage)
	}
	p.mu.Lock()
	if full && r.Cursor == "" {
		p.walk++
	}
	walk := p.walk
	p.mu.Unlock()

	page, err := p.c.ListSessions(ctx, admin.ListOptions{PageToken: r.Cursor, PageSize: size})
	if err != nil {
		return domain.Page[domain.Session]{}, domainError(err)
	}
	if page.MayHaveSkipped {
		p.log.Warn("kratos: a page may have skipped sessions tied at its boundary; the next full walk finds them")
	}
	now := p.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	out := domain.Page[domain.Session]{Items: make([]domain.Session, 0, len(page.Sessions)), Next: page.NextPageToken}
	metKnown := false
	for _, ks := range page.Sessions {
		if _, ok := p.known[ks.ID]; ok {
			metKnown = true
		}
		out.Items = append(out.Items, p.remember(ks, now, walk))
		delete(p.dirty, ks.ID)
	}
	if !full && metKnown {
		out.Next = ""
	}
	if out.Next == "" {
		if full {
			for id, k := range p.known {
				if k.walk != walk { // not in Kratos' list any more
					delete(p.known, id)
				}
			}
		}
		for id := range p.dirty {
			if k, ok := p.known[id]; ok {
				out.Items = append(out.Items, k.s)
			}
		}
		clear(p.dirty)
		for _, s := range p.gone {
			out.Items = append(out.Items, s)
		}
	}
	return out, nil
}

// remember maps ks and stamps its UpdatedAt (see the package comment).
// The caller holds mu.
func (p *Provider) remember(ks admin.Session, now time.Time, walk int) domain.Session {
	s := p.session(ks, now)
	fp := fingerprint(ks)
	k, ok := p.known[ks.ID]
	switch {
	case ok && k.fingerprint == fp:
		s.UpdatedAt = k.s.UpdatedAt
	case ok:
		s.UpdatedAt = later(now, k.s.UpdatedAt)
	case s.Status == domain.StatusActive:
		s.UpdatedAt = s.CreatedAt
	default:
		// Seen ended for the first time: when it ended Kratos does not
		// say, so now — after whatever a cache of an earlier run holds.
		s.UpdatedAt = now
	}
	if !ok {
		k = &seen{}
		p.known[ks.ID] = k
	}
	k.s, k.fingerprint, k.walk = s, fp, walk
	return s
}

// later is now, or a microsecond after prev when the clock has not moved
// past it: a change must sort after the state it replaces.
func later(now, prev time.Time) time.Time {
	if now.After(prev) {
		return now
	}
	return prev.Add(time.Microsecond)
}

func fingerprint(ks admin.Session) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%t|%s|%s|%s|%d", ks.Active, ks.AAL, ks.ExpiresAt.UTC().Format(time.RFC3339Nano), ks.AuthenticatedAt.UTC().Format(time.RFC3339Nano), len(ks.Devices))
	if n := len(ks.Devices); n > 0 {
		d := ks.Devices[n-1]
		fmt.Fprintf(&b, "|%s|%s|%s", d.IPAddress, d.UserAgent, d.Location)
	}
	return b.String()
}

// session maps one Kratos session (without UpdatedAt).
func (p *Provider) session(ks admin.Session, now time.Time) domain.Session {
	s := domain.Session{
		ID:           ks.ID,
		User:         domain.Person{ID: ks.Identity.ID, Email: ks.Identity.Email, Name: ks.Identity.Name},
		CreatedAt:    ks.IssuedAt,
		LastActiveAt: ks.AuthenticatedAt,
		ExpiresAt:    ks.ExpiresAt,
		MFA:          ks.AAL == "aal2" || ks.AAL == "aal3",
		Status:       domain.StatusActive,
	}
	if s.LastActiveAt.Before(s.CreatedAt) {
		s.LastActiveAt = s.CreatedAt
	}
	if n := len(ks.Devices); n > 0 {
		d := ks.Devices[n-1]
		s.IP, s.UserAgent, s.Location = d.IPAddress, d.UserAgent, d.Location
	}
	ua := useragent.Parse(s.UserAgent)
	s.Client = ua.Label()
	dev := deviceID(ks.Identity.ID, ua.DeviceName())
	s.DeviceID = &dev
	if !ks.Active {
		s.Status = domain.StatusTerminated
		if !ks.ExpiresAt.IsZero() && !ks.ExpiresAt.After(now) {
			s.Status = domain.StatusExpired
		}
		if at, ok := p.ended[ks.ID]; ok {
			s.Status = domain.StatusTerminated
			by := p.actor()
			s.TerminatedAt, s.TerminatedBy = &at, &by
		}
	}
	return s
}
