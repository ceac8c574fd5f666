// Package procs owns surge's headroom in GOMAXPROCS for goroutines that
// spend their time blocked in system calls, or on an OS thread of their
// own: the replay pacer asleep in clock_nanosleep on its locked thread, the
// lean driver's poller in epoll_wait, the WebSocket message pacer, and the
// capture tap's recorder on its low-priority thread.
//
// Why: a goroutine in a blocking system call keeps its P (the runtime's
// right to run Go code) until the runtime's monitor thread takes it back,
// which it does only after 20 µs to 10 ms, and not at all while another P is
// idle or the call is short. With GOMAXPROCS equal to the cores, two such
// threads hold both Ps of a 2-core machine most of the time, and every other
// goroutine (response handling, the demo platform's handlers and timers)
// waits for a P: measured on `make demo` (2 cores), heartbeat p99 16–33 ms
// against the platform's own 7.4–8.4 ms, and 6.7–8.2 ms against 4.0–4.6 ms
// with two Ps more (docs/BENCHMARKS.md, "GOMAXPROCS headroom"). A P held by
// a sleeping thread uses no CPU, so one P more per such goroutine gives the
// cores back to the goroutines that need them. See the Go runtime's
// proc.go (retake, sysmon) for the rule.
package procs

import (
	"os"
	"runtime"
	"sync"
)

var (
	mu       sync.Mutex
	reserved int // Ps added for blocking goroutines now
	base     int // GOMAXPROCS before the first reservation
	initial  = runtime.GOMAXPROCS(0)
)

// Reserve adds n Ps to GOMAXPROCS for goroutines that block in system calls
// most of the time, and returns the function that gives them back (safe to
// call more than once; only the first call counts). Reservations add up;
// when the last is released GOMAXPROCS returns to what it was before the
// first, or to the runtime's default (which follows the CPU limit) when that
// was the default. Changing GOMAXPROCS stops the world briefly (µs).
func Reserve(n int) (release func()) {
	if n <= 0 {
		return func() {}
	}
	mu.Lock()
	if reserved == 0 {
		base = runtime.GOMAXPROCS(0)
	}
	reserved += n
	runtime.GOMAXPROCS(base + reserved)
	mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { give(n) }) }
}

func give(n int) {
	mu.Lock()
	defer mu.Unlock()
	reserved -= n
	if reserved > 0 {
		runtime.GOMAXPROCS(base + reserved)
		return
	}
	if base == initial && os.Getenv("GOMAXPROCS") == "" {
		runtime.SetDefaultGOMAXPROCS()
		return
	}
	runtime.GOMAXPROCS(base)
}

// Reserved returns the number of Ps reserved now.
func Reserved() int {
	mu.Lock()
	defer mu.Unlock()
	return reserved
}
