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
		return "", &Error{Code: domain.KindInvalid, Message: "The reason is limited to 500 characters."}
	}
	return reason, nil
}

// Terminate ends one session. When it is the caller's own, the token is now
// dead: the workspace closes and the UI asks for a new sign-in.
func (d *Desk) Terminate(ctx context.Context, id, reason string) (domain.Session, error) {
	w, err := d.current()
	if err != nil {
		return domain.Session{}, err
	}
	if reason, err = checkReason(reason); err != nil {
		return domain.Session{}, err
	}
	s, err := w.prov.EndSession(ctx, id, reason)
	if err != nil {
		return domain.Session{}, d.fail(w, err)
	}
	if s.Current || s.ID == w.Me().SessionID {
		d.ended(w)
		return s, nil
	}
	d.afterAction(ctx, w, []domain.Session{s}, nil)
	return s, nil
}

// TerminateAll ends every session of the organization (but the caller's own
// when keepCurrent).
func (d *Desk) TerminateAll(ctx context.Context, keepCurrent bool, reason string) (domain.Ended, error) {
	w, err := d.current()
	if err != nil {
		return domain.Ended{}, err
	}
	if reason, err = checkReason(reason); err != nil {
		return domain.Ended{}, err
	}
	res, err := w.prov.EndAllSessions(ctx, keepCurrent, reason, nil)
	if err != nil {
		return res, d.fail(w, err)
	}
	if !keepCurrent {
		d.ended(w)
		return res, nil
	}
	d.afterAction(ctx, w, nil, nil)
	return res, nil
}

// RevokeTrust takes a device's trust away.
func (d *Desk) RevokeTrust(ctx context.Context, id, reason string) (domain.Device, error) {
	w, err := d.current()
	if err != nil {
		return domain.Device{}, err
	}
	if reason, err = checkReason(reason); err != nil {
		return domain.Device{}, err
	}
	dev, err := w.prov.UntrustDevice(ctx, id, reason)
	if err != nil {
		return domain.Device{}, d.fail(w, err)
	}
	d.afterAction(ctx, w, nil, []domain.Device{dev})
	return dev, nil
}

// afterAction shows the platform's answer at once and asks for a sync, which
// also brings the audit event the action created.
func (d *Desk) afterAction(ctx context.Context, w *workspace, sessions []domain.Session, devices []domain.Device) {
	if len(sessions) > 0 || len(devices) > 0 {
		if err := w.sync.ApplyLocal(ctx, sessions, devices); err != nil {
			d.cfg.Log.Warn("action result not cached", "err", err)
		}
	}
	w.sync.Trigger()
}
