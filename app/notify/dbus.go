//go:build !windows

package notify

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/esiqveland/notify"
	"github.com/godbus/dbus/v5"

	"sessiondesk/app/domain"
)

// Notifier sends notifications over one private D-Bus connection.
type Notifier struct {
	log  *slog.Logger
	mu   sync.Mutex
	conn *dbus.Conn // nil: no bus; notifications are only logged
}

// Connect opens a private connection to the bus at address ("" = the user's
// session bus). Failing to connect is logged and yields a Notifier that only
// logs.
func Connect(address string, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{log: log}
	var conn *dbus.Conn
	var err error
	if address == "" {
		conn, err = dbus.ConnectSessionBus()
	} else {
		conn, err = dbus.Connect(address)
	}
	if err != nil {
		log.Warn("no D-Bus session bus; desktop notifications disabled", "err", err)
		return n
	}
	n.conn = conn
	return n
}

// Close ends the connection.
func (n *Notifier) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil {
		return nil
	}
	err := n.conn.Close()
	n.conn = nil
	return err
}

// NewDevice announces a device never seen before. The error is returned for
// the caller's log; a missing service is not worth more than that.
func (n *Notifier) NewDevice(ctx context.Context, d domain.Device, location string) error {
	summary, body := NewDeviceMessage(d, location)
	return n.send(ctx, summary, body, "device_id", d.ID)
}

// NewDevices announces many devices never seen before in one notification.
func (n *Notifier) NewDevices(ctx context.Context, ds []domain.Device) error {
	if len(ds) == 0 {
		return nil
	}
	summary, body := NewDevicesMessage(ds)
	return n.send(ctx, summary, body, "devices", len(ds))
}

// send shows one notification; logKey and logValue say what it was about in
// the log (an id or a count, never the text).
func (n *Notifier) send(ctx context.Context, summary, body, logKey string, logValue any) error {
	n.mu.Lock()
	conn := n.conn
	n.mu.Unlock()
	if conn == nil {
		n.log.Info("new device (no notification service)", logKey, logValue)
		return errors.New("notify: no session bus")
	}
	note := notify.Notification{
		AppName:       AppName,
		AppIcon:       "dialog-information",
		Summary:       summary,
		Body:          body,
		ExpireTimeout: notify.ExpireTimeoutSetByNotificationServer,
	}
	note.SetUrgency(notify.UrgencyNormal)
	return deliver(ctx, n.log, logKey, logValue, func() error {
		_, err := notify.SendNotification(conn, note)
		return err
	})
}
