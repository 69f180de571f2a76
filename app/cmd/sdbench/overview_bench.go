package main

import (
	"fmt"
	"time"

	"sessiondesk/app/overview"
)

// benchOverview times the Overview tab's computation over a synced
// profile's in-memory index (what the app does offline and online alike).
// It checks the result as well: the large seed's sessions are all active.
func benchOverview(cfg config, sp *syncedProfile) ([]row, error) {
	var o overview.Overview
	took, err := timeIt(cfg.samples, func() error {
		o = overview.Compute(sp.sessions.Tallies(), sp.devices.Tallies(), time.Now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	if o.ActiveSessions < cfg.sessions || len(o.ByPlatform) == 0 {
		return nil, fmt.Errorf("overview counted %d active sessions of %d", o.ActiveSessions, cfg.sessions)
	}
	return []row{{"app offline", fmt.Sprintf("overview of %d sessions + %d devices, p50", sp.sessions.Len(), sp.devices.Len()),
		ms(median(took)), "< 50 ms", fmt.Sprintf("%d computations", len(took))}}, nil
}
