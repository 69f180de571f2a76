package bind

import (
	"time"

	"sessiondesk/app/desk"
	"sessiondesk/app/settings"
)

// Settings are the workstation's choices (see app/settings).
type Settings struct {
	RetentionDays       int    `json:"retentionDays"`
	SyncIntervalSeconds int    `json:"syncIntervalSeconds"`
	Notifications       bool   `json:"notifications"`
	SharedWorkstation   bool   `json:"sharedWorkstation"`
	TimeStyle           string `json:"timeStyle"`
	TimeZone            string `json:"timeZone"`
}

// CacheInfo is what is kept about the open account, and where.
type CacheInfo struct {
	Folder         string     `json:"folder"`
	File           string     `json:"file"`
	Bytes          int64      `json:"bytes"`
	Oldest         *time.Time `json:"oldest"`
	Encrypted      bool       `json:"encrypted"`
	KeyInKeychain  bool       `json:"keyInKeychain"`
	RetentionDays  int        `json:"retentionDays"`
	SettingsFile   string     `json:"settingsFile"`
	ProfilesFile   string     `json:"profilesFile"`
	KeychainNotice string     `json:"keychainNotice"`
}

// SettingsService reads and changes the workstation's settings and what it
// keeps.
type SettingsService struct{ base }

// NewSettingsService binds d's settings.
func NewSettingsService(d *desk.Desk) *SettingsService { return &SettingsService{base{d: d}} }

// Get returns the settings.
func (s *SettingsService) Get() (Settings, error) { return Settings(s.d.Settings()), nil }

// Save checks and stores the settings; a field out of bounds fails with
// invalid_argument naming it.
func (s *SettingsService) Save(v Settings) (Settings, error) {
	ctx, cancel := s.call()
	defer cancel()
	out, err := s.d.SaveSettings(ctx, settings.Settings(v))
	return Settings(out), uiError(err)
}

// CacheInfo describes the open account's offline cache.
func (s *SettingsService) CacheInfo() (CacheInfo, error) {
	ctx, cancel := s.call()
	defer cancel()
	in, err := s.d.CacheInfo(ctx)
	if err != nil {
		return CacheInfo{}, uiError(err)
	}
	out := CacheInfo{
		Folder: in.Folder, File: in.File, Bytes: in.Bytes, Encrypted: in.Encrypted, KeyInKeychain: in.KeyInKeychain,
		RetentionDays: in.RetentionDays, SettingsFile: in.SettingsFile, ProfilesFile: in.ProfilesFile, KeychainNotice: in.KeychainNotice,
	}
	if !in.Oldest.IsZero() {
		t := in.Oldest
		out.Oldest = &t
	}
	return out, nil
}

// ForgetCachedData deletes the open account's cache and its key; the next
// sync starts a new one.
func (s *SettingsService) ForgetCachedData() error {
	ctx, cancel := s.call()
	defer cancel()
	return uiError(s.d.ForgetCachedData(ctx))
}

// RemoveProfile forgets a remembered account: its keychain entries, its
// cache and its entry in the profiles file (signing it out if it is open).
func (s *SettingsService) RemoveProfile(id string) error {
	ctx, cancel := s.call()
	defer cancel()
	return uiError(s.d.RemoveProfile(ctx, id))
}
