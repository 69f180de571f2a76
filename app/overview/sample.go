package overview

import (
	"fmt"
	"time"

	"sessiondesk/app/domain"
)

// Sample builds n sessions and m devices spread over the last 10 days with
// realistic label variety, for benchmarks (the test and sdbench share it).
func Sample(n, m int, now time.Time) ([]domain.Session, []domain.Device) {
	clients := []string{"Firefox 133 on Windows", "Chrome 131 on macOS", "Safari on iOS", "Edge 131 on Windows",
		"Chrome 131 on Android", "Firefox 133 on Linux", "Sessions Desk 1.1.0 on Linux"}
	places := []string{"Berlin, DE", "Lisbon, PT", "Austin, US", "Toronto, CA", "Dublin, IE", "", "London, GB", "Warsaw, PL"}
	sessions := make([]domain.Session, n)
	for i := range sessions {
		created := now.Add(-time.Duration(i%(10*24*60)) * time.Minute)
		status := domain.StatusActive
		if i%17 == 0 {
			status = domain.StatusTerminated
		}
		sessions[i] = domain.Session{ID: fmt.Sprintf("ses_%026d", i), CreatedAt: created, ExpiresAt: now.Add(time.Duration(i%720) * time.Minute),
			Status: status, MFA: i%3 != 0, Client: clients[i%len(clients)], Location: places[i%len(places)], IP: "203.0.113.1"}
	}
	devices := make([]domain.Device, m)
	for i := range devices {
		devices[i] = domain.Device{ID: fmt.Sprintf("dev_%026d", i), FirstSeenAt: now.Add(-time.Duration(i) * time.Minute)}
	}
	return sessions, devices
}
