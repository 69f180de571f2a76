// Package settings holds the staff member's choices about this workstation:
// how long the offline cache keeps ended sessions and audit events, how
// often it syncs, whether new devices raise a notification, whether this is
// a shared workstation (sign-out then forgets the local copy by default),
// and how times are shown. One JSON file, mode 0600, beside profiles.json;
// every field is bounded, and a file that does not parse gives the defaults
// rather than stopping the app.
package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sessiondesk/app/internal/private"
	"sync"
	"time"
)

// Bounds of the fields a user can set.
const (
	MinRetentionDays = 1
	MaxRetentionDays = 30
	MinSyncInterval  = 10 * time.Second
	MaxSyncInterval  = time.Hour
)

// Time display choices.
const (
	TimeRelative = "relative"
	TimeExact    = "exact"
	ZoneLocal    = "local"
	ZoneUTC      = "utc"
)

// Settings are the workstation's choices.
type Settings struct {
	RetentionDays       int    `json:"retentionDays"`
	SyncIntervalSeconds int    `json:"syncIntervalSeconds"`
	Notifications       bool   `json:"notifications"`
	SharedWorkstation   bool   `json:"sharedWorkstation"`
	TimeStyle           string `json:"timeStyle"`
	TimeZone            string `json:"timeZone"`
}

// Defaults are the settings before the user changed any: the retention and
// sync interval the app was started with.
func Defaults(retention, syncInterval time.Duration) Settings {
	s := Settings{
		RetentionDays:       int(retention / (24 * time.Hour)),
		SyncIntervalSeconds: int(syncInterval / time.Second),
		Notifications:       true,
		TimeStyle:           TimeRelative,
		TimeZone:            ZoneLocal,
	}
	s.RetentionDays = min(max(s.RetentionDays, MinRetentionDays), MaxRetentionDays)
	s.SyncIntervalSeconds = min(max(s.SyncIntervalSeconds, int(MinSyncInterval/time.Second)), int(MaxSyncInterval/time.Second))
	return s
}

// Retention is how long ended sessions and audit events are kept.
func (s Settings) Retention() time.Duration { return time.Duration(s.RetentionDays) * 24 * time.Hour }

// SyncInterval is the time between background syncs.
func (s Settings) SyncInterval() time.Duration {
	return time.Duration(s.SyncIntervalSeconds) * time.Second
}

// FieldError names the field a Validate failure concerns; the app words
// it for the person (desk/errors.go), with the bounds above.
type FieldError struct {
	Field string
}

func (e *FieldError) Error() string { return "settings: " + e.Field + " is out of bounds" }

// Validate reports the first field out of its bounds.
func (s Settings) Validate() error {
	switch {
	case s.RetentionDays < MinRetentionDays || s.RetentionDays > MaxRetentionDays:
		return &FieldError{"retentionDays"}
	case s.SyncIntervalSeconds < int(MinSyncInterval/time.Second) || s.SyncIntervalSeconds > int(MaxSyncInterval/time.Second):
		return &FieldError{"syncIntervalSeconds"}
	case s.TimeStyle != TimeRelative && s.TimeStyle != TimeExact:
		return &FieldError{"timeStyle"}
	case s.TimeZone != ZoneLocal && s.TimeZone != ZoneUTC:
		return &FieldError{"timeZone"}
	}
	return nil
}

// Store reads and writes the settings file.
type Store struct {
	path     string
	defaults Settings
	mu       sync.Mutex
}

// Open returns the store of dir/settings.json; defaults stand for a missing
// or unreadable file.
func Open(dir string, defaults Settings) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	return &Store{path: filepath.Join(dir, "settings.json"), defaults: defaults}, nil
}

// Path is the file's location.
func (s *Store) Path() string { return s.path }

// Load returns the saved settings, or the defaults; saved tells which.
func (s *Store) Load() (v Settings, saved bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := os.ReadFile(s.path)
	if err != nil {
		return s.defaults, false
	}
	out := s.defaults
	if json.Unmarshal(data, &out) != nil || out.Validate() != nil {
		return s.defaults, false
	}
	return out, true
}

// Save validates and writes v atomically with mode 0600.
func (s *Store) Save(v Settings) error {
	if err := v.Validate(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := private.WriteFile(s.path, ".settings-*.json", data); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	return nil
}

// IsFieldError reports whether err is a Validate failure.
func IsFieldError(err error) bool {
	var fe *FieldError
	return errors.As(err, &fe)
}
