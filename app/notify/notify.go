// Package notify raises the app's native desktop notifications on Linux
// through the freedesktop notification service (org.freedesktop.Notifications
// on the D-Bus session bus) with esiqveland/notify. Wails v2 has no
// notification API of its own on Linux.
//
// A desktop without a notification service, or without a session bus, is
// normal (a server, a minimal window manager): the notifier then logs what it
// would have shown and carries on. Nothing here is ever fatal to the app.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/esiqveland/notify"
	"github.com/godbus/dbus/v5"

	"sessiondesk/backend/api"
)

// AppName is shown by the notification service as the sender.
const AppName = "Sessions Desk"

// callTimeout bounds one Notify call, so a stuck service cannot hold a sync.
const callTimeout = 5 * time.Second

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

// NewDeviceMessage builds the text of the new-device notification: who, which
// device, from where.
func NewDeviceMessage(d api.Device, location string) (summary, body string) {
	who := d.User.Name
	if who == "" {
		who = d.User.Email
	} else if d.User.Email != "" {
		who += " (" + d.User.Email + ")"
	}
	name := d.Name
	if name == "" {
		name = "an unknown device"
	}
	var where []string
	if d.LastIP != "" {
		where = append(where, d.LastIP)
	}
	if location != "" {
		where = append(where, location)
	}
	body = fmt.Sprintf("%s signed in on %s", who, name)
	if len(where) > 0 {
		body += " from " + strings.Join(where, ", ")
	}
	return "New device signed in", body + "."
}

// NewDevice announces a device never seen before. The error is returned for
// the caller's log; a missing service is not worth more than that.
func (n *Notifier) NewDevice(ctx context.Context, d api.Device, location string) error {
	summary, body := NewDeviceMessage(d, location)
	n.mu.Lock()
	conn := n.conn
	n.mu.Unlock()
	if conn == nil {
		n.log.Info("new device (no notification service)", "device_id", d.ID)
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

	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := notify.SendNotification(conn, note)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			n.log.Warn("desktop notification failed", "device_id", d.ID, "err", err)
			return fmt.Errorf("notify: %w", err)
		}
		n.log.Info("new device notified", "device_id", d.ID)
		return nil
	case <-ctx.Done():
		n.log.Warn("desktop notification timed out", "device_id", d.ID)
		return fmt.Errorf("notify: %w", ctx.Err())
	}
}
