package report

import (
	"fmt"
	"strings"
	"time"
)

// Progress is a live view of a run, for a progress line. Results come in as
// requests finish, so the counts trail the requests in flight.
type Progress struct {
	// Elapsed is the time since the run's start.
	Elapsed time.Duration
	// Total is the planned length of the run, shown after Elapsed. Snapshot
	// leaves it zero (not shown): the caller, who knows the plan, sets it.
	Total time.Duration
	// Scheduled, Sent, Errors and Dropped count the results so far; Errors
	// are sent requests that failed (of any class, HTTP 4xx/5xx included).
	Scheduled, Sent, Errors, Dropped int64
	// Rate is the number of requests sent in the last complete second.
	Rate float64
	// P99 is the p99 latency (from intended time) so far, LatenessP99 the
	// p99 of the generator's lateness so far.
	P99, LatenessP99 time.Duration
}

// Snapshot returns the progress of the run now. It is cheap enough (a few
// microseconds) to call every second.
func (a *Aggregator) Snapshot() Progress { return a.snapshot(time.Now()) }

func (a *Aggregator) snapshot(now time.Time) Progress {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := Progress{
		Scheduled: a.scheduled, Sent: a.sent, Errors: a.errs, Dropped: a.dropped,
		P99:         time.Duration(min(a.lat.h.ValueAtPercentile(99), a.lat.max)) * time.Microsecond,
		LatenessP99: time.Duration(min(a.late.h.ValueAtPercentile(99), a.late.max)) * time.Microsecond,
	}
	if a.origin.IsZero() {
		return p
	}
	p.Elapsed = max(now.Sub(a.origin), 0)
	// The last complete second before now.
	i := int64(p.Elapsed/time.Second) - 1 - a.lo
	if i >= 0 && i < int64(len(a.secs)) && a.secs[i] != nil {
		p.Rate = float64(a.secs[i].sentAt)
	}
	return p
}

// String formats p as one line:
//
//	elapsed 0:42/1:00  sent 12,345 (2,001/s)  err 0.3%  p99 142 ms  late p99 0.3 ms
//
// with "  dropped N" at the end when requests were dropped.
func (p Progress) String() string {
	var b strings.Builder
	b.WriteString("elapsed " + clock(p.Elapsed))
	if p.Total > 0 {
		b.WriteString("/" + clock(p.Total))
	}
	fmt.Fprintf(&b, "  sent %s (%s/s)  err %s  p99 %s ms  late p99 %s ms",
		count(p.Sent), rate(p.Rate), percent(p.Errors, p.Sent),
		millis(float64(p.P99)/1e6), millis(float64(p.LatenessP99)/1e6))
	if p.Dropped > 0 {
		b.WriteString("  dropped " + count(p.Dropped))
	}
	return b.String()
}

// clock formats d as m:ss, or h:mm:ss from an hour on.
func clock(d time.Duration) string {
	s := int64(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// millis formats a number of milliseconds with about three significant
// digits: 142, 12.3, 0.4, 0.04, 0.001.
func millis(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 99.95:
		return count(int64(v + 0.5))
	case v >= 0.095:
		return fmt.Sprintf("%.1f", v)
	case v >= 0.0095:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// rate formats a rate per second: whole numbers from 100 on.
func rate(v float64) string {
	if v >= 99.95 {
		return count(int64(v + 0.5))
	}
	return fmt.Sprintf("%.1f", v)
}

// percent formats n/of as a percentage, "-" when of is zero.
func percent(n, of int64) string {
	if of == 0 {
		return "-"
	}
	p := 100 * float64(n) / float64(of)
	if p > 0 && p < 0.05 {
		return "<0.1%"
	}
	return fmt.Sprintf("%.1f%%", p)
}
