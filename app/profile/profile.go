// Package profile keeps the list of accounts the app has signed in with —
// server address, organization and e-mail, never a password or token — in a
// small JSON file (mode 0600, directory 0700) in the user's config directory.
// Secrets belong to the keychain, keyed by the profile's id.
//
// Beside each profile the file keeps who its signed-in account is (user,
// organization, permissions, as the platform last said; no secret) and how
// far the platform's clock was from this computer's. They live here, not
// only in the offline cache, so that an offline start after the cache was
// lost still knows who is signed in and can show the offline screen with
// a way to sign out.
//
// It also keeps, per profile, when an offline cache was last known to be
// written for it (CacheWritten). The app's own deletions of a cache clear
// this mark with the files, so a mark whose file is missing means the files
// were deleted outside the app, and the user is told (see app/desk).
//
// A profile's id is derived from what identifies the account, so signing in
// again with the same account finds the same keychain items and the same
// offline cache. Demo profiles are keyed without the server address, because
// the embedded platform may listen on a different port in every run.
package profile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/internal/private"
)

// Profile is one account on one platform.
type Profile struct {
	ID        string `json:"id"`
	ServerURL string `json:"serverUrl"`
	Org       string `json:"org"`
	Email     string `json:"email"`
	Demo      bool   `json:"demo,omitempty"`
	// CAFile is a PEM file of the certificate authority (an organization's
	// internal CA) trusted for this platform besides the system's; "" for
	// none. Not part of the id: the account is the same whoever signed the
	// certificate.
	CAFile string `json:"caFile,omitempty"`
	// Provider is the identity system's kind: ProviderKratos, or ""
	// (ProviderPlatformd) for the Sessions Desk platform, which every
	// profile written before v1.2 is.
	Provider string `json:"provider,omitempty"`
}

// Provider kinds.
const (
	ProviderPlatformd = ""
	ProviderKratos    = "kratos"
)

// NewKratos builds the profile of a staff member (email) managing the Ory
// Kratos admin API at adminURL. Kratos has no organizations; the kind is
// part of the id, so the same address can never share a platform profile's
// keychain items or cache.
func NewKratos(adminURL, email string) Profile {
	email = strings.ToLower(strings.TrimSpace(email))
	server := CleanServerURL(adminURL)
	sum := sha256.Sum256([]byte(ProviderKratos + "\x00" + server + "\x00\x00" + email))
	return Profile{ID: hex.EncodeToString(sum[:8]), ServerURL: server, Email: email, Provider: ProviderKratos}
}

// New builds a profile with its derived id.
func New(serverURL, org, email string, demo bool) Profile {
	org = strings.ToLower(strings.TrimSpace(org))
	email = strings.ToLower(strings.TrimSpace(email))
	server := CleanServerURL(serverURL)
	key := server
	if demo {
		key = "demo"
	}
	sum := sha256.Sum256([]byte(key + "\x00" + org + "\x00" + email))
	return Profile{ID: hex.EncodeToString(sum[:8]), ServerURL: server, Org: org, Email: email, Demo: demo}
}

// CleanServerURL is a platform address as profiles keep it (no spaces, no
// trailing slash), so that two spellings of one address compare equal.
func CleanServerURL(s string) string { return strings.TrimRight(strings.TrimSpace(s), "/") }

// Identity is what the platform last said about a profile's signed-in
// account (GET /me), and its clock's offset from this computer's.
type Identity struct {
	Me domain.Me `json:"me"`
	// ClockOffsetMS is the platform's clock minus this computer's, in
	// milliseconds, as last measured (see platformd.Client.ClockOffset).
	ClockOffsetMS int64 `json:"clockOffsetMs,omitempty"`
}

// file is the on-disk shape.
type file struct {
	Version    int                 `json:"version"`
	Last       string              `json:"last,omitempty"`
	Profiles   []Profile           `json:"profiles"`
	Identities map[string]Identity `json:"identities,omitempty"`
	// CacheWritten: profile id → when its cache file was first seen
	// holding a sync, for the open that wrote it. See MarkCacheWritten.
	CacheWritten map[string]time.Time `json:"cacheWritten,omitempty"`
}

// Store reads and writes the profiles file. It is safe for concurrent use.
type Store struct {
	path string
	mu   sync.Mutex
}

// Open returns the store for dir/profiles.json, creating dir (0700).
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	return &Store{path: filepath.Join(dir, "profiles.json")}, nil
}

// Path is the file's location.
func (s *Store) Path() string { return s.path }

func (s *Store) read() (file, error) {
	var f file
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return file{Version: 1}, nil
	}
	if err != nil {
		return f, fmt.Errorf("profile: %w", err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		// An unreadable list only costs the user a sign-in; start over
		// rather than refuse to start.
		return file{Version: 1}, nil
	}
	return f, nil
}

func (s *Store) write(f file) error {
	f.Version = 1
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	if err := private.WriteFile(s.path, ".profiles-*.json", data); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	return nil
}

// update reads the file, lets change edit it and writes it back when
// change says it changed something, all under the store's lock.
func (s *Store) update(change func(f *file) (changed bool)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read()
	if err != nil {
		return err
	}
	if !change(&f) {
		return nil
	}
	return s.write(f)
}

// List returns every profile, the last used first.
func (s *Store) List() ([]Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read()
	if err != nil {
		return nil, err
	}
	out := slices.Clone(f.Profiles)
	slices.SortStableFunc(out, func(a, b Profile) int {
		switch {
		case a.ID == f.Last:
			return -1
		case b.ID == f.Last:
			return 1
		}
		return 0
	})
	return out, nil
}

// Last returns the last used profile, if any.
func (s *Store) Last() (Profile, bool, error) {
	return s.find(func(f file) string { return f.Last })
}

// Get returns the profile with id.
func (s *Store) Get(id string) (Profile, bool, error) {
	return s.find(func(file) string { return id })
}

// find reads the file and returns the profile whose id is which's.
func (s *Store) find(which func(file) string) (Profile, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read()
	if err != nil {
		return Profile{}, false, err
	}
	id := which(f)
	for _, p := range f.Profiles {
		if p.ID == id {
			return p, true, nil
		}
	}
	return Profile{}, false, nil
}

// Save adds or updates p and makes it the last used.
func (s *Store) Save(p Profile) error {
	return s.update(func(f *file) bool {
		i := slices.IndexFunc(f.Profiles, func(q Profile) bool { return q.ID == p.ID })
		if i >= 0 {
			f.Profiles[i] = p
		} else {
			f.Profiles = append(f.Profiles, p)
		}
		f.Last = p.ID
		return true
	})
}

// SetIdentity records who profile id is signed in as.
func (s *Store) SetIdentity(id string, ident Identity) error {
	return s.update(func(f *file) bool {
		if f.Identities == nil {
			f.Identities = map[string]Identity{}
		}
		f.Identities[id] = ident
		return true
	})
}

// Identity returns who profile id was last signed in as, if known.
func (s *Store) Identity(id string) (Identity, bool, error) {
	return lookup(s, func(f file) map[string]Identity { return f.Identities }, id)
}

// ForgetIdentity drops what is kept about profile id's account (sign-out).
func (s *Store) ForgetIdentity(id string) error {
	return s.update(func(f *file) bool { return drop(f.Identities, id) })
}

// ClearLast forgets which profile was used last (after sign-out), so the
// next start shows the sign-in form.
func (s *Store) ClearLast() error {
	return s.update(func(f *file) bool {
		f.Last = ""
		return true
	})
}

// Delete forgets the profile (a remembered account removed in Settings).
func (s *Store) Delete(id string) error {
	return s.update(func(f *file) bool {
		f.Profiles = slices.DeleteFunc(f.Profiles, func(p Profile) bool { return p.ID == id })
		delete(f.Identities, id)
		delete(f.CacheWritten, id)
		if f.Last == id {
			f.Last = ""
		}
		return true
	})
}

// MarkCacheWritten records that profile id's offline cache file holds
// synced data (at: when that was seen). It is kept until ForgetCacheWritten.
func (s *Store) MarkCacheWritten(id string, at time.Time) error {
	return s.update(func(f *file) bool {
		if f.CacheWritten == nil {
			f.CacheWritten = map[string]time.Time{}
		}
		f.CacheWritten[id] = at.UTC()
		return true
	})
}

// CacheWritten tells whether profile id's cache was marked written, and when.
func (s *Store) CacheWritten(id string) (time.Time, bool, error) {
	return lookup(s, func(f file) map[string]time.Time { return f.CacheWritten }, id)
}

// ForgetCacheWritten drops the mark: the app deletes the cache itself, or
// has told the user that it is gone.
func (s *Store) ForgetCacheWritten(id string) error {
	return s.update(func(f *file) bool { return drop(f.CacheWritten, id) })
}

// lookup reads the file and returns what the map of it that pick names
// holds for profile id.
func lookup[V any](s *Store, pick func(file) map[string]V, id string) (V, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read()
	if err != nil {
		var zero V
		return zero, false, err
	}
	v, ok := pick(f)[id]
	return v, ok, nil
}

// drop deletes id from m and reports whether it was there (whether the
// file changed).
func drop[V any](m map[string]V, id string) bool {
	_, ok := m[id]
	delete(m, id)
	return ok
}
