//go:build !linux

package replay

import "time"

func newPreciseClock(start time.Time) (clock, error) { return newGoClock(start), nil }
