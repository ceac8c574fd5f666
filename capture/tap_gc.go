package capture

import (
	"os"
	"runtime/debug"
)

// TapGCPercent is the garbage collector's GOGC that surge capture proxy
// runs with when the GOGC environment variable is not set.
//
// Why not Go's 100: the tap's live heap is mostly the events it holds for
// the reorder window (2 s of requests, pointer-rich), and every collection
// marks all of them while requests are in flight; the mark phases, not the
// tap's own code (p99 ≤ 8 µs), are what a request through the tap waits
// for. Measured at 5,000 req/s (scripts/bench/tap, tap pinned to one core):
// p99 above the same proxy without recording 8.0 ms at GOGC 100, 1.8–2.6 ms
// at 400, none with the collector off (docs/BENCHMARKS.md). 400 lets the
// heap grow to about five times the live events (tens of MB at 5k req/s)
// and collects a quarter as often. GOMEMLIMIT still applies, and bounds the
// heap where memory is tight.
const TapGCPercent = 400

// SetTapGC sets GOGC to TapGCPercent unless the GOGC environment variable
// chose one. It returns the GOGC in force.
func SetTapGC() int {
	if v := os.Getenv("GOGC"); v != "" {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(TapGCPercent)
	return TapGCPercent
}
