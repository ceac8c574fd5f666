package replay

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// preciseClock sleeps with clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)
// on the calling goroutine's own OS thread with a 1 ns timer slack. Measured
// on this project's machines: wake-up lateness p50 ≈ 40–90 µs, p99 ≈ 110 µs,
// against ≈ 0.55 / 1.08 ms for Go timers (see docs/BENCHMARKS.md). It must be
// created and used by one goroutine, which it locks to its thread.
//
// Its thread sleeps in a system call that keeps the goroutine's P: Run
// reserves a P for it (Config.blockingThreads).
type preciseClock struct {
	start     time.Time // wall clock at the start
	startMono int64     // CLOCK_MONOTONIC ns at the start
}

func newPreciseClock(start time.Time) (clock, error) {
	runtime.LockOSThread()
	// Best effort: a smaller slack makes the kernel wake us closer to the
	// deadline; it fails only in odd sandboxes, where the default slack
	// (50 µs) is still fine.
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
	// Go's monotonic readings are CLOCK_MONOTONIC: start and startMono name
	// the same instant (to within the ~100 ns between the two reads).
	now, mono := time.Now(), monotonic()
	at := startAt(start)
	c := &preciseClock{start: at, startMono: mono + int64(at.Sub(now))}
	return c, nil
}

func monotonic() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// now reads Go's monotonic clock (CLOCK_MONOTONIC through the vDSO, no
// system call), offset from the start taken together with startMono.
func (c *preciseClock) now() time.Duration { return time.Since(c.start) }

func (c *preciseClock) sleepUntil(d time.Duration) {
	ts := unix.NsecToTimespec(c.startMono + int64(d))
	for {
		err := unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil)
		if err != unix.EINTR {
			return
		}
	}
}

func (c *preciseClock) wall(d time.Duration) time.Time { return c.start.Add(d) }

func (c *preciseClock) close() { runtime.UnlockOSThread() }
