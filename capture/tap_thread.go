package capture

import (
	"runtime"

	"github.com/surge-replay/surge/internal/procs"
)

// RecorderNice is the default nice value of the recorder's OS thread
// (Linux; TapConfig.RecorderNice): the lowest priority, so that on a busy
// core the kernel runs the proxy's request threads and the service's before
// the tap's sessionizing, scrubbing and Parquet or Kafka encoding. Under
// sustained full load the recorder then falls behind, its queue fills and
// events are dropped and counted: capture loses, production does not
// (issue 13, "fail-open").
//
// What a lower value trades (scripts/bench/tap, docs/BENCHMARKS.md "The
// recorder's nice value"): a collection's stop-the-world waits for every
// thread holding a P, the recorder's too, and a saturated core runs a
// nice-19 thread last. In closed-loop sets on one saturated core the
// longest pause of a set had a median of 14.7 ms at nice 19 and 2.6 ms at
// nice 10, and nice 10 dropped events in fewer sets (1 of 8 against 4 of
// 8) for the same throughput. But at 5,000 req/s, a core not saturated,
// nice 10's p99 was 0.41 ms above nice 19's (the median of 15 paired
// runs; likely because its wake-ups preempt requests more often). The default
// keeps the everyday tail; hosts that run saturated can choose 10.
const RecorderNice = 19

// runRecorder runs the recorder on an OS thread of its own, at nice
// value nice, with a GOMAXPROCS P reserved for it (internal/procs).
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
func runRecorder(rec *tapRecorder, nice int) {
	release := procs.Reserve(1)
	defer release()
	runtime.LockOSThread()
	if err := lowerThreadPriority(nice); err != nil {
		rec.logf("capture: the recorder's thread keeps the process's priority, not nice %d: %v", nice, err)
	}
	rec.run()
}
