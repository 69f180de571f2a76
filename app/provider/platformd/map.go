package platformd

// The boundary: platformd's wire types (backend/api) become the app's
// domain types here and nowhere else. Each conversion names every field,
// so that a field added to the wire is a compile-time or test-time
// decision, not a silent loss (TestMappingCarriesEveryField fills every
// field of the wire types and checks that each one arrives). The sync's
// list pages skip the copy and decode into the domain types (see
// listPage); TestWirePagesDecodeAsMapped holds them to these conversions.

import (
	"sessiondesk/app/domain"
	"sessiondesk/backend/api"
)

func personOf(u api.User) domain.Person {
	return domain.Person{ID: u.ID, Email: u.Email, Name: u.Name}
}

func optPersonOf(u *api.User) *domain.Person {
	if u == nil {
		return nil
	}
	p := personOf(*u)
	return &p
}

func orgOf(o api.Org) domain.Org { return domain.Org{ID: o.ID, Slug: o.Slug, Name: o.Name} }

func meOf(m api.Me) domain.Me {
	return domain.Me{User: personOf(m.User), Org: orgOf(m.Org), Permissions: m.Permissions, SessionID: m.SessionID}
}

func sessionOf(s *api.Session) domain.Session {
	return domain.Session{
		ID: s.ID, User: personOf(s.User), DeviceID: s.DeviceID, IP: s.IP, UserAgent: s.UserAgent, Client: s.Client,
		Location: s.Location, CreatedAt: s.CreatedAt, LastActiveAt: s.LastActiveAt, ExpiresAt: s.ExpiresAt,
		UpdatedAt: s.UpdatedAt, Status: s.Status, TerminatedAt: s.TerminatedAt, TerminatedBy: optPersonOf(s.TerminatedBy),
		MFA: s.MFA, Current: s.Current,
	}
}

func deviceOf(d *api.Device) domain.Device {
	return domain.Device{
		ID: d.ID, User: personOf(d.User), Name: d.Name, Platform: d.Platform, Trusted: d.Trusted,
		TrustedAt: d.TrustedAt, FirstSeenAt: d.FirstSeenAt, LastSeenAt: d.LastSeenAt, LastIP: d.LastIP, UpdatedAt: d.UpdatedAt,
	}
}

func auditEventOf(e *api.AuditEvent) domain.AuditEvent {
	return domain.AuditEvent{
		ID: e.ID, At: e.At, Actor: personOf(e.Actor), Action: e.Action, TargetID: e.TargetID,
		TargetUser: optPersonOf(e.TargetUser), TargetLabel: e.TargetLabel, TargetIDs: e.TargetIDs,
		Count: e.Count, Reason: e.Reason,
	}
}

func next(cursor *string) string {
	if cursor == nil {
		return ""
	}
	return *cursor
}
