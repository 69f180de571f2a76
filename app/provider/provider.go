// Package provider is the seam between the app and an identity system: the
// one interface a system's client implements (Provider, and Connector for
// signing in), in the app's own types (app/domain). Everything above it —
// cache, indexes, syncer, desk, the UI — works the same whichever system a
// profile is signed in to; today's system is platformd
// (app/provider/platformd), the only app package that speaks its wire
// contract.
//
// The interface is what the app's call sites need and no more: pages of
// the three lists (the syncer), the five actions (desk), a live source or
// polling (Watch), who is signed in (Me), the system's clock, and sign-in.
// What a provider cannot do it says in Capabilities; the UI then offers no
// button for it, and a call to it fails with domain.KindInvalid.
package provider

import (
	"context"
	"time"

	"sessiondesk/app/domain"
)

// Reader reads the lists page by page (the syncer's walks). Sessions and
// Devices serve the change feed when PageRequest.Since is set; Audit is
// newest first and ignores Since.
type Reader interface {
	Sessions(ctx context.Context, r domain.PageRequest) (domain.Page[domain.Session], error)
	Devices(ctx context.Context, r domain.PageRequest) (domain.Page[domain.Device], error)
	Audit(ctx context.Context, r domain.PageRequest) (domain.Page[domain.AuditEvent], error)
}

// Provider is one signed-in account on one identity system. It is safe for
// concurrent use. Errors are domain errors: *domain.Error for an answer,
// *domain.UnreachableError for no answer, *domain.CertificateError for a
// refused certificate.
type Provider interface {
	Reader

	// Capabilities says what this system can do (constant per provider).
	Capabilities() domain.Capabilities
	// Me is who the credential belongs to and what it may do.
	Me(ctx context.Context) (domain.Me, error)

	// EndSession ends one session and returns it as it now is; an ended
	// session is returned unchanged.
	EndSession(ctx context.Context, id, reason string) (domain.Session, error)
	// EndSessions ends up to domain.MaxSelected chosen sessions.
	EndSessions(ctx context.Context, ids []string, reason string) (domain.Ended, error)
	// EndPersonSessions ends every active session of one person (keeping
	// the caller's own when keepCurrent and the person is the caller).
	EndPersonSessions(ctx context.Context, personID string, keepCurrent bool, reason string) (domain.Ended, error)
	// EndAllSessions ends every active session of the organization
	// (keeping the caller's own when keepCurrent). A system without one
	// route for it ends them one by one and reports progress (nil: none
	// wanted) as it goes.
	EndAllSessions(ctx context.Context, keepCurrent bool, reason string, progress func(domain.Progress)) (domain.Ended, error)
	// UntrustDevice takes a device's trust away and returns it as it now is.
	UntrustDevice(ctx context.Context, id, reason string) (domain.Device, error)

	// Watch holds the system's live source until ctx ends or the session
	// ends (then it calls sessionEnded once and returns), feeding t. A
	// system without one polls: Watch tells t so (SetLive false, with a
	// note) and waits for ctx.
	Watch(ctx context.Context, t LiveTarget, sessionEnded func())

	// SignOut ends the signed-in session on the system (best effort).
	SignOut(ctx context.Context) error
	// Close releases idle connections; the provider is not used after.
	Close()

	Clock
}

// Clock is the identity system's clock, estimated from its answers: the
// app computes expiry and retention on it, not on the workstation's, which
// may be hours off.
type Clock interface {
	Now() time.Time
	// ClockOffset is the system's clock minus this computer's, once known.
	ClockOffset() (time.Duration, bool)
	// SeedClockOffset starts from an offset learned in an earlier run,
	// until the first answer tells the present one.
	SeedClockOffset(d time.Duration)
}

// LiveTarget is what a live source drives: the profile's syncer.
type LiveTarget interface {
	// ApplyChanges stores a batch of pushed changes and, in the same step,
	// token, the resume point of the source ("" to start afresh).
	ApplyChanges(ctx context.Context, ch domain.Changes, token string) error
	// ResumeToken is the stored resume point ("" none).
	ResumeToken(ctx context.Context) (string, error)
	// CatchUp runs a sync now: a delta, or a full one when the source says
	// that changes were missed.
	CatchUp(ctx context.Context, full bool) error
	// SetInterval sets the polling interval (0: the configured one); a
	// held live source makes polling a slow safety net.
	SetInterval(d time.Duration)
	// SetLive tells the sync status whether changes arrive live, and why
	// not (note, one of the Poll… notes; the app words it) when they are
	// polled.
	SetLive(live bool, note string)
}

// Why changes are polled (LiveTarget.SetLive's note). They are codes: the
// app words them with the real interval between syncs (desk/errors.go).
const (
	// PollNoStream: the platform has no event stream.
	PollNoStream = "no_stream"
	// PollHeldBack: the stream is there but nothing gets through (a proxy
	// may hold it back).
	PollHeldBack = "held_back"
	// PollKratos: Ory Kratos has no event stream; its provider also reads
	// every session every FullWalkEvery.
	PollKratos = "kratos"
)

// FullWalkEvery is how often a provider with no change feed (PollKratos)
// reads every session again: its only way to learn of changes to sessions
// older than the newest it knows. It lives here, beside the note, because
// the app words that note (desk/errors.go) and desk reaches concrete
// providers only when it picks one. A full walk of 100,000 Kratos sessions
// takes ~90 s.
const FullWalkEvery = 5 * time.Minute

// Connector is an identity system at an address, before sign-in.
type Connector interface {
	// BaseURL is the system's address as profiles keep it.
	BaseURL() string
	// SignIn checks the person's credentials and returns what to keep.
	SignIn(ctx context.Context, req SignInRequest) (SignedIn, error)
	// WithToken is the provider for a credential SignIn returned (or one
	// kept from an earlier run). It shares the connector's connections.
	WithToken(token string) Provider
	// Close releases idle connections (shared with derived providers).
	Close()
}

// SignInRequest is what a person gives to sign in; a provider uses the
// fields its system knows.
type SignInRequest struct {
	Org         string
	Email       string
	Password    string
	TOTP        string
	TrustDevice bool
	Device      ThisDevice
}

// ThisDevice is this computer as it introduces itself at sign-in. Secret
// proves a device the system trusts (SignedIn.DeviceSecret of the sign-in
// that trusted it).
type ThisDevice struct {
	ID       string
	Name     string
	Platform string
	Secret   string
}

// SignedIn is what a successful sign-in returns, to be kept in the
// keychain: the credential, and what the system said about this computer.
type SignedIn struct {
	Token         string
	DeviceID      string
	DeviceTrusted bool
	// DeviceSecret is set only by a sign-in that trusted the device.
	DeviceSecret string
}
