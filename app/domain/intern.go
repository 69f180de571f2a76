package domain

import (
	"strings"
	"sync"
)

// Interner gives rows that repeat a value one shared copy of it. At a
// million sessions a person has about twenty sessions, a device five, and a
// handful of user agents, clients, locations and statuses cover them all;
// decoded one by one (from the cache or a sync's pages) each row carried its
// own copy of every one of them. What is the row's own (its id, mostly its
// address) is left to the caller.
//
// Rows are interned a slice at a time, under one lock, so that the cache's
// decoding workers share one table without paying for the lock per field.
// An Interner lives as long as one load or one sync: its table is dropped
// with it, the shared strings stay with the rows.
type Interner struct {
	mu     sync.Mutex
	strs   map[string]string
	ids    map[string]*string // device ids behind Session.DeviceID
	people map[string]Person  // by id: one look-up for a person's three fields
}

// NewInterner returns an empty Interner.
func NewInterner() *Interner {
	return &Interner{strs: map[string]string{}, ids: map[string]*string{}, people: map[string]Person{}}
}

// str is s's shared copy. A new value is copied, so that the table never
// holds on to a larger buffer s may be a slice of (the cache's plaintext).
func (in *Interner) str(s string) string {
	if v, ok := in.strs[s]; ok {
		return v
	}
	v := strings.Clone(s)
	in.strs[v] = v
	return v
}

func (in *Interner) person(p *Person) {
	if q, ok := in.people[p.ID]; ok && q.Email == p.Email && q.Name == p.Name {
		*p = q
		return
	}
	p.ID, p.Email, p.Name = in.str(p.ID), in.str(p.Email), in.str(p.Name)
	in.people[p.ID] = *p
}

// status is a session's status: one of three constants, or another value
// shared like any string.
func (in *Interner) status(s string) string {
	switch s {
	case StatusActive:
		return StatusActive
	case StatusExpired:
		return StatusExpired
	case StatusTerminated:
		return StatusTerminated
	}
	return in.str(s)
}

// Sessions replaces every repeated field of rows with its shared copy: the
// person (and who ended it), the device id (the pointer itself is shared:
// nothing writes through it), user agent, client, location and status. ID
// and IP are left as they are: nearly every row has its own, and a table
// of them would cost more than it saves.
func (in *Interner) Sessions(rows []Session) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := range rows {
		s := &rows[i]
		in.person(&s.User)
		if s.DeviceID != nil {
			p, ok := in.ids[*s.DeviceID]
			if !ok {
				v := strings.Clone(*s.DeviceID)
				p = &v
				in.ids[v] = p
			}
			s.DeviceID = p
		}
		s.UserAgent, s.Client = in.str(s.UserAgent), in.str(s.Client)
		s.Location, s.Status = in.str(s.Location), in.status(s.Status)
		if s.TerminatedBy != nil {
			in.person(s.TerminatedBy)
		}
	}
}

// Devices is Sessions for devices: the person, name and platform (not ID
// or LastIP).
func (in *Interner) Devices(rows []Device) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := range rows {
		d := &rows[i]
		in.person(&d.User)
		d.Name, d.Platform = in.str(d.Name), in.str(d.Platform)
	}
}
