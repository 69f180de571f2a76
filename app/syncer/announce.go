package syncer

import (
	"context"
	"time"

	"sessiondesk/app/domain"
)

// announce notifies each new device, or all of them in one summary when
// they are more than MaxSeparateNotifications. Failures are logged only: the
// device is already recorded as seen, and announcing it twice is worse than
// missing a bubble on a desktop without a notification service.
func (s *Syncer) announce(ctx context.Context, devices []domain.Device) {
	if s.cfg.Notifier == nil || len(devices) == 0 {
		return
	}
	if len(devices) > MaxSeparateNotifications {
		if err := s.cfg.Notifier.NewDevices(ctx, devices); err != nil {
			s.cfg.Log.Warn("new-devices summary notification not shown", "devices", len(devices), "err", err)
		}
		return
	}
	for _, d := range devices {
		where := s.locationOf(d.ID)
		if err := s.cfg.Notifier.NewDevice(ctx, d, where); err != nil {
			s.cfg.Log.Warn("new-device notification not shown", "device_id", d.ID, "err", err)
		}
	}
}

// locationOf finds the location of the newest session of the device.
func (s *Syncer) locationOf(deviceID string) string {
	var loc string
	var at time.Time
	for x := range s.cfg.Sessions.All() {
		if x.DeviceID != nil && *x.DeviceID == deviceID && x.Location != "" && x.CreatedAt.After(at) {
			loc, at = x.Location, x.CreatedAt
		}
	}
	return loc
}
