package server

import (
	"log/slog"
	"time"
)

// The configurations of this package (Config, EventsConfig,
// ThrottleConfig, HousekeepingConfig) read an unset field — zero, or a
// negative number that means nothing — as "the default"; these helpers
// say so once.

// orDefault sets *v to d when *v is unset (zero or negative).
func orDefault[T int | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// discardIfNil gives a nil logger one that drops everything.
func discardIfNil(l **slog.Logger) {
	if *l == nil {
		*l = slog.New(slog.DiscardHandler)
	}
}

// nowIfNil gives a nil clock the wall clock.
func nowIfNil(c *func() time.Time) {
	if *c == nil {
		*c = time.Now
	}
}
