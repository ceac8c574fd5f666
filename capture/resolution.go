package capture

import "time"

// grains are the time resolutions an import tells apart, coarsest first.
var grains = []time.Duration{
	time.Second, 100 * time.Millisecond, 10 * time.Millisecond, time.Millisecond,
	100 * time.Microsecond, 10 * time.Microsecond, time.Microsecond,
	100 * time.Nanosecond, 10 * time.Nanosecond, time.Nanosecond,
}

// grain returns the coarsest of grains that t is a whole multiple of: the
// finest resolution t could have been written at. A log written at one
// second ($time_local) has grain 1 s on every record; one written with
// $msec has 1 ms on nearly every record (1 s on one in a thousand).
func grain(t time.Time) time.Duration {
	ns := int64(t.Nanosecond())
	for _, g := range grains {
		if ns%int64(g) == 0 {
			return g
		}
	}
	return time.Nanosecond
}

// resolution tracks the time resolution of one source: the finest grain of
// the times it wrote (a record's log time when it has one, else its request
// start), so one sub-second record shows the source is not a one-second log.
type resolution time.Duration

func (r *resolution) add(t time.Time) {
	if g := resolution(grain(t)); *r == 0 || g < *r {
		*r = g
	}
}

// Resolution is the time resolution the records of one import input were
// written at, as measured from their times: one second for combined and
// common logs and nginx $time_local or $time_iso8601, one millisecond for
// nginx $msec and HAR, finer for .gor and JSON lines with finer times.
// Replay spreads the requests sharing an instant of a coarse resolution
// evenly over it (shaper.Config.Resolution).
type Resolution struct {
	File string `json:"file"`
	// Resolution is a Go duration ("1s", "1ms"); NS is the same in
	// nanoseconds. Both are empty for an input with no good record.
	Resolution string `json:"resolution,omitempty"`
	NS         int64  `json:"ns,omitempty"`
}

// coarsest returns the coarsest resolution of rs (0 when none is known): the
// resolution the import's output as a whole is written at.
func coarsest(rs []Resolution) time.Duration {
	var c time.Duration
	for _, r := range rs {
		c = max(c, time.Duration(r.NS))
	}
	return c
}
