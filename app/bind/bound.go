package bind

import (
	"context"
	"time"

	"sessiondesk/app/desk"
)

// Services are the services bound to the page. Wails binds every exported
// method of a bound value, and the page may call any of them: so a
// service exports only what the page calls (TestOnlyUIMethodsAreBound
// holds it to frontend/src/lib/api.ts), and its lifecycle hook, start,
// stays unexported and runs through Start, which is not bound.
type Services struct {
	App      *AppService
	Auth     *AuthService
	Sessions *SessionsService
	Devices  *DevicesService
	Audit    *AuditService
	Sync     *SyncService
	People   *PeopleService
	Overview *OverviewService
	Settings *SettingsService
}

// NewServices builds every bound service over d, with the Wails file
// dialogs (they are taken from the window's context at Start).
func NewServices(d *desk.Desk, version string, startedAt time.Time) *Services {
	return &Services{
		App:      NewAppService(version, startedAt),
		Auth:     NewAuthService(d),
		Sessions: NewSessionsService(d, nil),
		Devices:  NewDevicesService(d, nil),
		Audit:    NewAuditService(d),
		Sync:     NewSyncService(d),
		People:   NewPeopleService(d),
		Overview: NewOverviewService(d),
		Settings: NewSettingsService(d),
	}
}

// Bound is what wails.Run binds.
func (s *Services) Bound() []any {
	return []any{s.App, s.Auth, s.Sessions, s.Devices, s.Audit, s.Sync, s.People, s.Overview, s.Settings}
}

// starter is a service's lifecycle hook: unexported, so never bound.
type starter interface{ start(ctx context.Context) }

// Start hands the window's context to each service, once the window
// exists (Wails's OnStartup); values that are not services are ignored.
func Start(ctx context.Context, services ...any) {
	for _, s := range services {
		if st, ok := s.(starter); ok {
			st.start(ctx)
		}
	}
}
