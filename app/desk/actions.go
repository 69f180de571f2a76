package desk

import (
	"context"
	"strings"
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
	res, err := w.prov.EndAllSessions(ctx, keepCurrent, reason, report)
	if err != nil {
		return res, w.fail(err)
	}
	if !keepCurrent && w.Me().SessionID != "" { // an admin key (Kratos) has no session to lose
		w.end()
		return res, nil
	}
	w.afterAction(ctx, nil, nil)
	return res, nil
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
