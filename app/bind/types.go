package bind

import (
	"time"

	"sessiondesk/app/desk"
	"sessiondesk/app/domain"
	"sessiondesk/app/profile"
	"sessiondesk/app/syncer"
)

// Profile is a known account. It never holds a password or token.
type Profile struct {
	ID        string `json:"id"`
	ServerURL string `json:"serverUrl"`
	Org       string `json:"org"`
	Email     string `json:"email"`
	CAFile    string `json:"caFile,omitempty"`
	// Provider is the identity system's kind: "" the Sessions Desk
	// platform, "kratos" Ory Kratos.
	Provider string `json:"provider,omitempty"`
}

func toProfile(p profile.Profile) Profile {
	return Profile{ID: p.ID, ServerURL: p.ServerURL, Org: p.Org, Email: p.Email, CAFile: p.CAFile, Provider: p.Provider}
}

// SignInRequest is what the sign-in form submits.
type SignInRequest struct {
	ServerURL   string `json:"serverUrl"`
	Org         string `json:"org"`
	Email       string `json:"email"`
	Password    string `json:"password"`
	TOTP        string `json:"totp"`
	TrustDevice bool   `json:"trustDevice"`
	// CAFile is the PEM file of an organization's own certificate authority
	// (optional; trusted besides the system's).
	CAFile string `json:"caFile,omitempty"`
	// Provider is "" (the Sessions Desk platform) or "kratos" (Ory Kratos:
	// serverUrl is its admin API, apiKey the optional key of a proxy in
	// front of it).
	Provider string `json:"provider,omitempty"`
	APIKey   string `json:"apiKey,omitempty"`
}

// AuthState is who is signed in and whether the keychain works.
type AuthState struct {
	SignedIn bool       `json:"signedIn"`
	Demo     bool       `json:"demo"`
	Profile  *Profile   `json:"profile"`
	Me       *domain.Me `json:"me"`
	// Capabilities is what the signed-in identity system can do: the UI
	// offers an action only when it can and the permission is there.
	Capabilities      *domain.Capabilities `json:"capabilities"`
	KeychainAvailable bool                 `json:"keychainAvailable"`
	KeychainMessage   string               `json:"keychainMessage"`
	// Message explains the last change (session ended, cache rebuilt);
	// empty when there is nothing to say.
	Message string `json:"message"`
	// Notice says what cached data was lost and why; it stays until
	// DismissNotice.
	Notice string `json:"notice"`
	// DefaultServer is the address the sign-in form starts with (the
	// app's -server), "" without one.
	DefaultServer string `json:"defaultServer"`
	// SharedWorkstation: no "Trust this device", and every end of a
	// session forgets this workstation's copy (Go enforces both).
	SharedWorkstation bool `json:"sharedWorkstation"`
}

func authState(st desk.AuthState) AuthState {
	out := AuthState{
		SignedIn: st.SignedIn, Demo: st.Demo, Me: st.Me, Capabilities: st.Capabilities,
		KeychainAvailable: st.KeychainAvailable, KeychainMessage: st.KeychainMessage, Message: st.Message, Notice: st.Notice,
		DefaultServer: st.DefaultServer, SharedWorkstation: st.SharedWorkstation,
	}
	if st.Profile != nil {
		p := toProfile(*st.Profile)
		out.Profile = &p
	}
	return out
}

// SessionQuery asks for a window of the sessions list. The v1.1 filters
// (see desk.SessionQuery) combine with the search and the sort; "-" as
// country or platform selects the unknown ones.
type SessionQuery struct {
	Search      string `json:"search"`
	Status      string `json:"status"`
	Sort        string `json:"sort"`
	Desc        bool   `json:"desc"`
	Offset      int    `json:"offset"`
	Limit       int    `json:"limit"`
	UserID      string `json:"userId"`
	MFA         string `json:"mfa"`
	Country     string `json:"country"`
	Platform    string `json:"platform"`
	Browser     string `json:"browser"`
	CreatedFrom int64  `json:"createdFrom"`
	CreatedTo   int64  `json:"createdTo"`
}

// SessionPage is a window of sessions and the list's totals.
type SessionPage struct {
	Items       []domain.Session `json:"items"`
	Total       int              `json:"total"`
	ActiveCount int              `json:"activeCount"`
	Offline     bool             `json:"offline"`
	SnapshotAt  *time.Time       `json:"snapshotAt"`
}

// TerminateAllResult tells how many sessions were ended.
type TerminateAllResult struct {
	Terminated int `json:"terminated"`
}

// DeviceQuery asks for a window of the devices list.
type DeviceQuery struct {
	Search         string `json:"search"`
	Trusted        string `json:"trusted"`
	Sort           string `json:"sort"`
	Desc           bool   `json:"desc"`
	Offset         int    `json:"offset"`
	Limit          int    `json:"limit"`
	DeviceID       string `json:"deviceId"`
	UserID         string `json:"userId"`
	Platform       string `json:"platform"`
	FirstSeenHours int    `json:"firstSeenHours"`
}

// DevicePage is a window of devices and the list's totals.
type DevicePage struct {
	Items        []domain.Device `json:"items"`
	Total        int             `json:"total"`
	TrustedCount int             `json:"trustedCount"`
	Offline      bool            `json:"offline"`
	SnapshotAt   *time.Time      `json:"snapshotAt"`
}

// AuditPage is a window of the audit log, newest first.
type AuditPage struct {
	Items      []domain.AuditEvent `json:"items"`
	Total      int                 `json:"total"`
	Offline    bool                `json:"offline"`
	SnapshotAt *time.Time          `json:"snapshotAt"`
}

// SyncStatus is the state of the background sync.
type SyncStatus struct {
	Online     bool       `json:"online"`
	Syncing    bool       `json:"syncing"`
	LastSyncAt *time.Time `json:"lastSyncAt"`
	LastError  string     `json:"lastError"`
	Phase      string     `json:"phase"`
	Done       int        `json:"done"`
	Total      int        `json:"total"`
	// Live: the platform's event stream is held; LastEventAt is when its
	// last change arrived; LiveNote says why changes are polled instead.
	Live        bool       `json:"live"`
	LastEventAt *time.Time `json:"lastEventAt"`
	LiveNote    string     `json:"liveNote"`
	RetryAt     *time.Time `json:"retryAt"` // the platform asked to wait until then
	// ClockOffsetMS is the platform's clock minus this computer's.
	ClockOffsetMS int64 `json:"clockOffsetMs"`
	// IntervalSeconds is the time between background syncs ("checking
	// every 30 s" while changes are polled).
	IntervalSeconds int `json:"intervalSeconds"`
}

func toSyncStatus(st syncer.Status) SyncStatus { return SyncStatus(st) }
