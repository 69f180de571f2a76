// Package notify raises the app's native desktop notifications: on Linux
// (and other freedesktop systems) through the notification service
// (org.freedesktop.Notifications on the D-Bus session bus) with
// esiqveland/notify, on Windows as toast notifications with
// jackmordaunt/go-toast. Wails v2 has no notification API of its own. Each
// platform's Notifier (dbus.go, toast_windows.go) has the same methods —
// NewDevice, NewDevices, Close — and Connect, and builds its text here.
//
// A desktop without a notification service, or without a session bus, is
// normal (a server, a minimal window manager): the notifier then logs what it
// would have shown and carries on. Nothing here is ever fatal to the app.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"sessiondesk/app/domain"
	"sessiondesk/app/internal/deadline"
)

// AppName is shown by the notification service as the sender.
const AppName = "Sessions Desk"

// callTimeout bounds one Notify call, so a stuck service cannot hold a sync.
const callTimeout = 5 * time.Second

// deliver runs push, one platform's call that shows a notification, for at
// most callTimeout, and logs the outcome; logKey and logValue say what it was
// about (an id or a count, never the text). The call goes on in the
// background after a time-out: neither D-Bus nor WinRT can cancel it.
func deliver(ctx context.Context, log *slog.Logger, logKey string, logValue any, push func() error) error {
	finished, err := deadline.Call(ctx, callTimeout, push)
	switch {
	case !finished:
		log.Warn("desktop notification timed out", logKey, logValue)
		return fmt.Errorf("notify: %w", err)
	case err != nil:
		log.Warn("desktop notification failed", logKey, logValue, "err", err)
		return fmt.Errorf("notify: %w", err)
	}
	log.Info("new device notified", logKey, logValue)
	return nil
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

// escape makes a cleaned notification text safe for one notification
// service's format: freedesktop servers render the body as markup, Windows
// takes it inside an XML CDATA section.
type escape func(string) string

// markup escapes &, < and > for the freedesktop body markup, so that the
// server shows them as the characters they are.
var markup escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// cdata keeps a text inside the CDATA section go-toast puts it in: "]]>"
// would end the section and let the rest be read as toast XML. Nothing else
// is special in CDATA.
var cdata escape = strings.NewReplacer("]]>", "]] >").Replace

// NewDeviceMessage builds the text of the new-device notification for the
// freedesktop markup: who, which device, from where. Every field is cleaned
// (see text): device names and user names are chosen by whoever signs in.
func NewDeviceMessage(d domain.Device, location string) (summary, body string) {
	summary, body = newDeviceText(d, location)
	return markup(summary), markup(body)
}

// NewDevicesMessage builds the text of the summary notification for many new
// devices at once (a sync after a long offline gap) for the freedesktop
// markup: how many, and who on which device for the first few.
func NewDevicesMessage(ds []domain.Device) (summary, body string) {
	summary, body = newDevicesText(ds)
	return markup(summary), markup(body)
}

// newDeviceText is NewDeviceMessage's text before a format's escaping.
func newDeviceText(d domain.Device, location string) (summary, body string) {
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

// text makes an untrusted value plain, short text for a notification body:
// control and bidirectional-override characters become spaces (no line
// breaks, no text that reads backwards), runs of spaces collapse, and the
// result is cut to max characters (with an ellipsis). The format's escaping
// (markup, cdata) comes after, on the whole message, so that a cut never
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
	return s
}

func isBidiControl(r rune) bool {
	return r == '\u061C' || r == '\u200E' || r == '\u200F' ||
		(r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// summaryListed is how many devices a summary notification names.
const summaryListed = 3

// newDevicesText is NewDevicesMessage's text before a format's escaping.
// Fields are cleaned like newDeviceText's.
func newDevicesText(ds []domain.Device) (summary, body string) {
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
