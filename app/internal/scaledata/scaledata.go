// Package scaledata makes rows shaped like backend/seed's large
// organization (sessions of 20 each per person, a handful of browsers and
// places, documentation-range IPs), for the tests and benchmarks that
// measure the app at 100,000 and 1,000,000 sessions. The pools are the
// seed's, so that the rows look like the platform's.
package scaledata

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/index"
	"sessiondesk/backend/seed"
	"sessiondesk/backend/useragent"
)

var (
	agents     = seed.UserAgents()
	places     = seed.Locations()
	firstNames = seed.FirstNames()
	lastNames  = seed.LastNames()
)

// clientLabels are the platform's labels of the seed's agents ("Firefox 133
// on Windows").
func clientLabels() []string {
	out := make([]string, len(agents))
	for i, a := range agents {
		out[i] = useragent.Parse(a).Label()
	}
	return out
}

// own returns s as a decoder without interning gives it, its own copy,
// unless shared.
func own(s string, shared bool) string {
	if shared {
		return s
	}
	return strings.Clone(s)
}

// People is n people, user%06d@bigcorp.test as the seed names them.
func People(n int) []domain.Person {
	out := make([]domain.Person, n)
	for i := range out {
		out[i] = domain.Person{ID: fmt.Sprintf("usr_%022d", i), Email: fmt.Sprintf("user%06d@bigcorp.test", i),
			Name: firstNames[i%len(firstNames)] + " " + lastNames[i/len(firstNames)%len(lastNames)]}
	}
	return out
}

// person is people's i-th row's person: shared, or its own copy.
func person(people []domain.Person, i int, shared bool) domain.Person {
	p := people[i%len(people)]
	if !shared {
		p = domain.Person{ID: own(p.ID, false), Email: own(p.Email, false), Name: own(p.Name, false)}
	}
	return p
}

// Sessions is n sessions of people (each ~n/len(people)), the same for
// the same arguments. shared: people's, browsers' and places' strings are
// shared between rows, as an interning decoder leaves them; otherwise
// every row holds its own copies.
func Sessions(n int, people []domain.Person, shared bool, now time.Time) []domain.Session {
	r := rand.New(rand.NewPCG(3, 4))
	clients := clientLabels()
	out := make([]domain.Session, n)
	for i := range out {
		p := person(people, i, shared)
		dev := fmt.Sprintf("dev_%022d", (i%len(people))*4+r.IntN(4))
		ua := r.IntN(len(agents))
		created := now.Add(-time.Duration(r.IntN(6*24*3600)) * time.Second)
		st := domain.StatusActive
		if r.IntN(10) == 0 {
			st = domain.StatusTerminated
		}
		out[i] = domain.Session{ID: fmt.Sprintf("ses_%022d", i), User: p, DeviceID: &dev, IP: seed.IP(r),
			UserAgent: own(agents[ua], shared), Client: own(clients[ua], shared), Location: own(places[r.IntN(len(places))], shared),
			CreatedAt: created, LastActiveAt: created.Add(time.Duration(r.IntN(3600)) * time.Second),
			ExpiresAt: now.Add(time.Duration(r.IntN(48)-4) * time.Hour), UpdatedAt: created, Status: own(st, shared), MFA: r.IntN(3) != 0}
	}
	return out
}

// Devices is m devices of people, as Sessions.
func Devices(m int, people []domain.Person, shared bool, now time.Time) []domain.Device {
	r := rand.New(rand.NewPCG(5, 6))
	clients := clientLabels()
	out := make([]domain.Device, m)
	for i := range out {
		p := person(people, i, shared)
		ua := r.IntN(len(agents))
		first := now.Add(-time.Duration(r.IntN(30*24*3600)) * time.Second)
		out[i] = domain.Device{ID: fmt.Sprintf("dev_%022d", i), User: p, Name: own(clients[ua], shared),
			Platform: own(index.ClientPlatform(clients[ua]), shared), Trusted: r.IntN(4) == 0,
			FirstSeenAt: first, LastSeenAt: first.Add(time.Hour), LastIP: seed.IP(r), UpdatedAt: first}
	}
	return out
}
