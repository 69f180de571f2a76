package desk

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"sessiondesk/app/domain"
)

func platformOffline(err error) bool { return domain.IsUnreachable(err) }

func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > domain.MaxReasonLen {
		return "", &Error{Code: domain.KindInvalid, Message: msgReasonTooLong}
	}
	return reason, nil
}

// allowed refuses an action with a permission_denied error (see
// permissionError) when the signed-in role does not hold perm, before the
// platform is asked. With the identity not yet known (an offline start
// that kept none) the platform decides.
func (w *Workspace) allowed(perm string) error {
	if me := w.Me(); me.User.ID != "" && !me.Has(perm) {
		return permissionError(perm)
	}
	return nil
}

// Terminate ends one session. When it is the caller's own, the token is now
// dead: the workspace closes and the UI asks for a new sign-in.
func (w *Workspace) Terminate(ctx context.Context, id, reason string) (domain.Session, error) {
	s, err := act(w, reason, func(reason string) (domain.Session, error) { return w.prov.EndSession(ctx, id, reason) })
	if err != nil {
		return domain.Session{}, err
	}
	if s.Current || s.ID == w.Me().SessionID {
		w.end()
		return s, nil
	}
	w.afterAction(ctx, []domain.Session{s}, nil)
	return s, nil
}

// TerminateAll ends every session of the organization (but the caller's own
// when keepCurrent). progress, when not nil, hears how far it got: Kratos
// has no org-wide end route, so there the sessions end one by one and a
// large organization takes a while.
func (w *Workspace) TerminateAll(ctx context.Context, keepCurrent bool, reason string, progress func(done, total int)) (domain.Ended, error) {
	if err := w.allowed(domain.PermSessionsTerminateOrg); err != nil {
		return domain.Ended{}, err
	}
	reason, err := checkReason(reason)
	if err != nil {
		return domain.Ended{}, err
	}
	var report func(domain.Progress)
	if progress != nil {
		report = func(p domain.Progress) { progress(p.Done, p.Total) }
	}
	upTo := w.markBound(ctx)
	res, err := w.prov.EndAllSessions(ctx, keepCurrent, reason, report)
	if err != nil {
		return res, w.fail(err)
	}
	own := w.Me().SessionID
	if !keepCurrent && own != "" { // an admin key (Kratos) has no session to lose
		w.end()
		return res, nil
	}
	// Shown ended now: at a million sessions the sync that brings them
	// takes minutes (Syncer.EndLocallyWhere).
	w.endLocallyWhere(upTo, func(s *domain.Session) bool { return own == "" || s.ID != own })
	w.afterAction(ctx, nil, nil)
	return res, nil
}

// markBound is, read before a bulk end is sent, the bound of the rows
// its mark may name (Syncer.SessionsMark); the zero time when unknown,
// which names none.
func (w *Workspace) markBound(ctx context.Context) time.Time {
	t, err := w.sync.SessionsMark(ctx)
	if err != nil {
		w.log.Info("sessions not marked ended: the cache's mark is unreadable", "err", err)
		return time.Time{}
	}
	return t
}

// endLocallyWhere marks the cached sessions pred accepts ended, once the
// platform confirmed it ended them, in an action sent when the cache's
// mark was upTo: see Syncer.EndLocallyWhere. A row changed after upTo is
// left to the sync: it may be a session that began after the platform
// ended the others.
func (w *Workspace) endLocallyWhere(upTo time.Time, pred func(*domain.Session) bool) {
	if upTo.IsZero() {
		return
	}
	w.sync.EndLocallyWhere(func(s *domain.Session) bool { return !s.UpdatedAt.After(upTo) && pred(s) }, w.actor())
}

// actor is who ends sessions from this workspace, as the marks name them
// until the sync brings the platform's rows (nil: not known).
func (w *Workspace) actor() *domain.Person {
	if me := w.Me(); me.User.ID != "" {
		return &me.User
	}
	return nil
}

// RevokeTrust takes a device's trust away.
func (w *Workspace) RevokeTrust(ctx context.Context, id, reason string) (domain.Device, error) {
	if err := w.allowed(domain.PermDevicesRevokeTrust); err != nil {
		return domain.Device{}, err
	}
	dev, err := act(w, reason, func(reason string) (domain.Device, error) { return w.prov.UntrustDevice(ctx, id, reason) })
	if err != nil {
		return domain.Device{}, err
	}
	w.afterAction(ctx, nil, []domain.Device{dev})
	return dev, nil
}

// act runs one action on the provider with the checked reason and reacts
// to its failure (see fail).
func act[T any](w *Workspace, reason string, do func(reason string) (T, error)) (T, error) {
	var zero T
	reason, err := checkReason(reason)
	if err != nil {
		return zero, err
	}
	out, err := do(reason)
	if err != nil {
		return zero, w.fail(err)
	}
	return out, nil
}

// afterAction shows the platform's answer at once and asks for a sync, which
// also brings the audit event the action created.
func (w *Workspace) afterAction(ctx context.Context, sessions []domain.Session, devices []domain.Device) {
	if len(sessions) > 0 || len(devices) > 0 {
		if err := w.sync.ApplyLocal(ctx, sessions, devices); err != nil {
			w.log.Warn("action result not cached", "err", err)
		}
	}
	w.sync.Trigger()
}
