package capture

import (
	"runtime"

	"github.com/surge-replay/surge/internal/procs"
)

// RecorderNice is the nice value of the recorder's OS thread (Linux): the
// lowest priority, so that on a busy core the kernel runs the proxy's
// request threads and the service's before the tap's sessionizing,
// scrubbing and Parquet or Kafka encoding. Under sustained full load the
// recorder then falls behind, its queue fills and events are dropped and
// counted: capture loses, production does not (issue 13, "fail-open").
const RecorderNice = 19

// runRecorder runs the recorder on an OS thread of its own, at
// RecorderNice, with a GOMAXPROCS P reserved for it (internal/procs).
//
// Why its own thread and P: the recorder's work comes in bursts (a Parquet
// row group of 16,384 events is encoded and compressed at once, tens of
// ms). On a goroutine sharing the proxy's Ps, a burst holds a P that request
// goroutines wait for, for up to the Go scheduler's 10 ms preemption slice:
// measured with the tap pinned to one core (GOMAXPROCS 1, scripts/bench/tap,
// GOGC 400, interleaved pairs) p99 2.0 and 2.6 ms above the same proxy
// without recording on its own thread, 3.5 and 5.6 ms on a shared one
// (docs/BENCHMARKS.md). Locked to its own thread, the recorder is
// scheduled by the kernel, which a nice value ranks below the proxy.
// The thread is never unlocked: it ends with the recorder, and its priority
// with it.
func runRecorder(rec *tapRecorder) {
	release := procs.Reserve(1)
	defer release()
	runtime.LockOSThread()
	lowerThreadPriority(RecorderNice)
	rec.run()
}
