package replay

import (
	"time"
)

// clock is the pacer's time source: offsets from the start of the run, and a
// sleep to an absolute offset. Absolute deadlines mean no drift: a slow start
// catches up instead of shifting the schedule.
type clock interface {
	// now returns the time elapsed since the start of the run.
	now() time.Duration
	// sleepUntil returns at or soon after the offset d.
	sleepUntil(d time.Duration)
	// wall converts an offset to wall-clock time.
	wall(d time.Duration) time.Time
	// close releases the clock's resources.
	close()
}

// goClock uses the Go runtime's timers. It is exact under testing/synctest
// and portable, but Go timers wake about every millisecond on an idle
// processor, so it sends in bursts at high rates.
type goClock struct {
	start time.Time
}

// newGoClock starts the clock at start, or now when start is zero.
func newGoClock(start time.Time) *goClock { return &goClock{start: startAt(start)} }

// startAt returns start as a reading of the monotonic clock (now plus the
// wall-clock distance to start), or now when start is zero: a run's offsets
// then count from the given wall time without drifting with wall-clock steps.
func startAt(start time.Time) time.Time {
	now := time.Now()
	if start.IsZero() {
		return now
	}
	return now.Add(start.Sub(now.Round(0)))
}

func (c *goClock) now() time.Duration { return time.Since(c.start) }

func (c *goClock) sleepUntil(d time.Duration) {
	if wait := d - c.now(); wait > 0 {
		time.Sleep(wait)
	}
}

func (c *goClock) wall(d time.Duration) time.Time { return c.start.Add(d) }

func (c *goClock) close() {}
