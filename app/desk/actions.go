package desk

import (
	"context"
	"strings"
	"unicode/utf8"

	"sessiondesk/app/platform"
	"sessiondesk/backend/api"
)

func platformOffline(err error) bool { return platform.IsUnreachable(err) }

func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > api.MaxReasonLen {
		return "", &Error{Code: api.CodeInvalidArgument, Message: "The reason is limited to 500 characters."}
	}
	return reason, nil
}

// allowed returns w's workspace when the signed-in role holds perm, and a
// permission_denied error (see permissionError) when it does not, so that
// the action is refused before the platform is asked. With the identity
// not yet known (an offline start that kept none) the platform decides.
func (d *Desk) allowed(perm string) (*workspace, error) {
	w, err := d.current()
	if err != nil {
		return nil, err
	}
	if me := w.Me(); me.User.ID != "" && !me.Has(perm) {
		return nil, permissionError(perm)
	}
	return w, nil
}

// Terminate ends one session. When it is the caller's own, the token is now
// dead: the workspace closes and the UI asks for a new sign-in.
func (d *Desk) Terminate(ctx context.Context, id, reason string) (api.Session, error) {
	w, err := d.current()
	if err != nil {
		return api.Session{}, err
	}
	if reason, err = checkReason(reason); err != nil {
		return api.Session{}, err
	}
	s, err := w.client.TerminateSession(ctx, id, reason)
	if err != nil {
		return api.Session{}, d.fail(w, err)
	}
	if s.Current || s.ID == w.Me().SessionID {
		d.ended(w)
		return s, nil
	}
	d.afterAction(ctx, w, []api.Session{s}, nil)
	return s, nil
}

// TerminateAll ends every session of the organization (but the caller's own
// when keepCurrent).
func (d *Desk) TerminateAll(ctx context.Context, keepCurrent bool, reason string) (api.TerminateAllResponse, error) {
	w, err := d.allowed(api.PermSessionsTerminateOrg)
	if err != nil {
		return api.TerminateAllResponse{}, err
	}
	if reason, err = checkReason(reason); err != nil {
		return api.TerminateAllResponse{}, err
	}
	res, err := w.client.TerminateAll(ctx, keepCurrent, reason)
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
func (d *Desk) RevokeTrust(ctx context.Context, id, reason string) (api.Device, error) {
	w, err := d.allowed(api.PermDevicesRevokeTrust)
	if err != nil {
		return api.Device{}, err
	}
	if reason, err = checkReason(reason); err != nil {
		return api.Device{}, err
	}
	dev, err := w.client.UntrustDevice(ctx, id, reason)
	if err != nil {
		return api.Device{}, d.fail(w, err)
	}
	d.afterAction(ctx, w, nil, []api.Device{dev})
	return dev, nil
}

// afterAction shows the platform's answer at once and asks for a sync, which
// also brings the audit event the action created.
func (d *Desk) afterAction(ctx context.Context, w *workspace, sessions []api.Session, devices []api.Device) {
	if len(sessions) > 0 || len(devices) > 0 {
		if err := w.sync.ApplyLocal(ctx, sessions, devices); err != nil {
			d.cfg.Log.Warn("action result not cached", "err", err)
		}
	}
	w.sync.Trigger()
}
