package store

import (
	"math"
	"time"
)

// UnixNano is t as unix nanoseconds, the stores' time format, clamped to
// what an int64 holds (years 1678-2262): time.UnixNano of a later time is
// undefined, and an updated_since of the year 9999 must still mean "after
// every change".
func UnixNano(t time.Time) int64 {
	switch {
	case t.After(maxNanosTime):
		return math.MaxInt64
	case t.Before(minNanosTime):
		return math.MinInt64
	}
	return t.UnixNano()
}

var (
	maxNanosTime = time.Unix(0, math.MaxInt64)
	minNanosTime = time.Unix(0, math.MinInt64)
)
