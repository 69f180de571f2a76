package domain

// Where the audit log the app shows comes from.
const (
	// AuditPlatform: the identity system keeps an audit log of every
	// destructive action, whoever took it and from wherever.
	AuditPlatform = "platform"
	// AuditWorkstation: the system keeps none; the app shows the actions
	// taken from this workstation, which it records itself.
	AuditWorkstation = "workstation"
)

// How the app hears of changes.
const (
	// UpdatesLive: the system pushes changes (an event stream).
	UpdatesLive = "live"
	// UpdatesPolling: the app asks for changes on an interval.
	UpdatesPolling = "polling"
)

// Capabilities is what the signed-in provider can do. The UI offers an
// action only when the capability and the permission (Me.Has) are both
// there: a permission says the person may, a capability that the system
// can. They do not change while a profile is signed in.
type Capabilities struct {
	// EndSession: end one session.
	EndSession bool `json:"endSession"`
	// EndSelected: end a chosen set of sessions (in batches of
	// MaxSelected).
	EndSelected bool `json:"endSelected"`
	// EndPerson: end every session of one person.
	EndPerson bool `json:"endPerson"`
	// EndAll: end every session of the organization.
	EndAll bool `json:"endAll"`
	// RevokeDeviceTrust: take a device's trust away (the second factor is
	// asked again there). False where the system has no device trust.
	RevokeDeviceTrust bool `json:"revokeDeviceTrust"`
	// Audit is AuditPlatform or AuditWorkstation.
	Audit string `json:"audit"`
	// Updates is UpdatesLive or UpdatesPolling.
	Updates string `json:"updates"`
}
