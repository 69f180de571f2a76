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
	"unicode"

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

// Length caps, in characters, of the fields of a notification. The fields
// come from the platform and a device's name is whatever its user agent
// said, so a hostile one must not fill the screen.
const (
	maxName     = 64
	maxEmail    = 128
	maxDevice   = 64
	maxIP       = 45 // the longest textual IPv6 address
	maxLocation = 64
)

// NewDeviceMessage builds the text of the new-device notification: who, which
// device, from where. Every field is cleaned (see text): device names and
// user names are chosen by whoever signs in, and notification servers render
// the body as markup.
func NewDeviceMessage(d api.Device, location string) (summary, body string) {
	who := text(d.User.Name, maxName)
	if email := text(d.User.Email, maxEmail); who == "" {
		who = email
	} else if email != "" {
		who += " (" + email + ")"
	}
	name := text(d.Name, maxDevice)
	if name == "" {
		name = "an unknown device"
	}
	var where []string
	if ip := text(d.LastIP, maxIP); ip != "" {
		where = append(where, ip)
	}
	if loc := text(location, maxLocation); loc != "" {
		where = append(where, loc)
	}
	body = fmt.Sprintf("%s signed in on %s", who, name)
	if len(where) > 0 {
		body += " from " + strings.Join(where, ", ")
	}
	return "New device signed in", body + "."
}

// text makes an untrusted value safe for a notification body: control and
// bidirectional-override characters become spaces (no line breaks, no text
// that reads backwards), runs of spaces collapse, the result is cut to max
// characters (with an ellipsis), and &, < and > are escaped last, so that the
// server's markup shows them as the characters they are and a cut never
// splits an entity.
func text(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isBidiControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = strings.TrimSpace(string(r[:max-1])) + "…"
	}
	return markupEscaper.Replace(s)
}

var markupEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func isBidiControl(r rune) bool {
	return r == '\u061C' || r == '\u200E' || r == '\u200F' ||
		(r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// summaryListed is how many devices a summary notification names.
const summaryListed = 3

// NewDevicesMessage builds the text of the summary notification for many new
// devices at once (a sync after a long offline gap): how many, and who on
// which device for the first few. Fields are cleaned like NewDeviceMessage's.
func NewDevicesMessage(ds []api.Device) (summary, body string) {
	summary = fmt.Sprintf("%d new devices signed in", len(ds))
	var items []string
	for _, d := range ds[:min(len(ds), summaryListed)] {
		who := text(d.User.Name, maxName)
		if who == "" {
			who = text(d.User.Email, maxEmail)
		}
		if who == "" {
			who = "someone"
		}
		name := text(d.Name, maxDevice)
		if name == "" {
			name = "an unknown device"
		}
		items = append(items, who+" on "+name)
	}
	body = strings.Join(items, "; ")
	if more := len(ds) - len(items); more > 0 {
		body += fmt.Sprintf("; and %d more", more)
	}
	return summary, body + ". Open Sessions Desk to review them."
}

// NewDevice announces a device never seen before. The error is returned for
// the caller's log; a missing service is not worth more than that.
func (n *Notifier) NewDevice(ctx context.Context, d api.Device, location string) error {
	summary, body := NewDeviceMessage(d, location)
	return n.send(ctx, summary, body, "device_id", d.ID)
}

// NewDevices announces many devices never seen before in one notification.
func (n *Notifier) NewDevices(ctx context.Context, ds []api.Device) error {
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
			n.log.Warn("desktop notification failed", logKey, logValue, "err", err)
			return fmt.Errorf("notify: %w", err)
		}
		n.log.Info("new device notified", logKey, logValue)
		return nil
	case <-ctx.Done():
		n.log.Warn("desktop notification timed out", logKey, logValue)
		return fmt.Errorf("notify: %w", ctx.Err())
	}
}
