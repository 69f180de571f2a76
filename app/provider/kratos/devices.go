package kratos

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/backend/useragent"
)

type gaveDevice struct {
	fingerprint string
	updatedAt   time.Time
}

// deviceID names one person's browser + OS.
func deviceID(identity, name string) string {
	sum := sha256.Sum256([]byte(identity + "\x00" + name))
	return "kd-" + hex.EncodeToString(sum[:12])
}

// Devices derives the devices from the sessions the provider holds: the
// whole list for a full sync, else the ones changed since r.Since. One page.
func (p *Provider) Devices(ctx context.Context, r domain.PageRequest) (domain.Page[domain.Device], error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	byID := map[string]*domain.Device{}
	add := func(s domain.Session) {
		if s.DeviceID == nil {
			return
		}
		d, ok := byID[*s.DeviceID]
		if !ok {
			ua := useragent.Parse(s.UserAgent)
			d = &domain.Device{ID: *s.DeviceID, User: s.User, Name: ua.DeviceName(), Platform: ua.OS,
				FirstSeenAt: s.CreatedAt, LastSeenAt: s.LastActiveAt, LastIP: s.IP, UpdatedAt: s.UpdatedAt}
			byID[d.ID] = d
			return
		}
		if s.CreatedAt.Before(d.FirstSeenAt) {
			d.FirstSeenAt = s.CreatedAt
		}
		if s.LastActiveAt.After(d.LastSeenAt) {
			d.LastSeenAt, d.LastIP = s.LastActiveAt, s.IP
		}
		if s.UpdatedAt.After(d.UpdatedAt) {
			d.UpdatedAt = s.UpdatedAt
		}
	}
	for _, k := range p.known {
		add(k.s)
	}
	for _, s := range p.gone {
		add(s)
	}
	// A delta gives the devices that are new or changed since the
	// provider last gave them (not by r.Since: a device's sessions may be
	// older than the watermark another change pushed up).
	full := r.Since.Unix() <= 0
	out := make([]domain.Device, 0, len(byID))
	for id, d := range byID {
		fp := fmt.Sprintf("%s|%s|%s|%s|%s", d.User.Email, d.User.Name, d.FirstSeenAt.UTC(), d.LastSeenAt.UTC(), d.LastIP)
		prev, had := p.gave[id]
		if had && prev.fingerprint == fp {
			d.UpdatedAt = prev.updatedAt
			if !full {
				continue
			}
		} else if had && !d.UpdatedAt.After(prev.updatedAt) {
			d.UpdatedAt = prev.updatedAt.Add(time.Microsecond)
		}
		p.gave[id] = gaveDevice{fingerprint: fp, updatedAt: d.UpdatedAt}
		out = append(out, *d)
	}
	return domain.Page[domain.Device]{Items: out}, nil
}

// UntrustDevice: Kratos has no device trust.
func (p *Provider) UntrustDevice(ctx context.Context, id, reason string) (domain.Device, error) {
	return domain.Device{}, &domain.Error{Kind: domain.KindInvalid, Reason: domain.ReasonNoDeviceTrust}
}
