package notify

import (
	"context"
	"log/slog"
	"sync"

	toast "git.sr.ht/~jackmordaunt/go-toast"

	"sessiondesk/app/domain"
)

// Notifier shows Windows toast notifications through the WinRT toast API
// (go-toast falls back to PowerShell where WinRT is unavailable). It keeps
// no connection; go-toast registers AppName in the user's registry on the
// first notification so that the Action Center groups them under it.
type Notifier struct {
	log    *slog.Logger
	mu     sync.Mutex
	closed bool
}

// Connect returns the Windows notifier. address names a D-Bus bus on other
// platforms and means nothing here; it is accepted so that the app's
// composition root is the same on every platform.
func Connect(address string, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{log: log}
}

// Close stops further notifications.
func (n *Notifier) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	return nil
}

// NewDevice announces a device never seen before.
func (n *Notifier) NewDevice(ctx context.Context, d domain.Device, location string) error {
	summary, body := newDeviceText(d, location)
	return n.send(ctx, summary, body, "device_id", d.ID)
}

// NewDevices announces many devices never seen before in one notification.
func (n *Notifier) NewDevices(ctx context.Context, ds []domain.Device) error {
	if len(ds) == 0 {
		return nil
	}
	summary, body := newDevicesText(ds)
	return n.send(ctx, summary, body, "devices", len(ds))
}

func (n *Notifier) send(ctx context.Context, summary, body, logKey string, logValue any) error {
	n.mu.Lock()
	closed := n.closed
	n.mu.Unlock()
	if closed {
		return nil
	}
	note := toast.Notification{AppID: AppName, Title: cdata(summary), Body: cdata(body)}
	return deliver(ctx, n.log, logKey, logValue, note.Push)
}
