package report

import (
	"fmt"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// RecentWindow is the span of the live figures of a Progress: the last
// complete seconds before now, at most this many.
const RecentWindow = 5 * time.Second

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
	// Recent is the run over the last complete seconds (up to
	// RecentWindow): what the progress line shows, since totals hide a
	// change that is happening now.
	Recent Recent
}

// Recent are a Progress's figures over its last complete seconds, by
// intended time (a request's second is when it was meant to go).
type Recent struct {
	Span                  time.Duration // seconds covered, 0 to RecentWindow
	IntendedRPS, SentRPS  float64       // requests per second
	Sent, Errors, Dropped int64         // of the requests intended in the span
	P99                   time.Duration // latency from intended time
}

// Snapshot returns the progress of the run now. It is cheap enough (tens of
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
	end := int64(p.Elapsed/time.Second) - a.lo // one past the last complete second
	if i := end - 1; i >= 0 && i < int64(len(a.secs)) && a.secs[i] != nil {
		p.Rate = float64(a.secs[i].sentAt)
	}
	p.Recent = a.recent(end)
	return p
}

// recent sums the complete seconds [end-5, end) of the series (indexes into
// a.secs) and merges their latency histograms.
func (a *Aggregator) recent(end int64) Recent {
	var r Recent
	start := max(end-int64(RecentWindow/time.Second), 0)
	if end <= start {
		return r
	}
	r.Span = time.Duration(end-start) * time.Second
	if a.window == nil {
		a.window = hdr.New(histMin, histMax, secondDigits)
	}
	a.window.Reset()
	var scheduled, sentAt int64
	var top int64 // µs
	for i := start; i < end && i < int64(len(a.secs)); i++ {
		sec := a.secs[i]
		if sec == nil {
			continue
		}
		scheduled += sec.scheduled
		sentAt += sec.sentAt
		r.Sent += sec.sent
		r.Errors += sec.errs
		r.Dropped += sec.dropped
		if sec.lat.h != nil {
			sec.lat.h.MergeInto(a.window)
			top = max(top, sec.lat.max)
		}
	}
	secs := r.Span.Seconds()
	r.IntendedRPS, r.SentRPS = float64(scheduled)/secs, float64(sentAt)/secs
	if a.window.TotalCount() > 0 {
		r.P99 = time.Duration(min(a.window.ValueAtQuantile(99), top)) * time.Microsecond
	}
	return r
}

// String formats p as one line: the last seconds' intended and sent rate,
// drops, error rate and p99, then the run's totals:
//
//	0:42/1:00  last 5s: intended 2,000/s sent 2,001/s dropped 0 err 0.3% p99 142 ms | total sent 12,345 err 0.3% late p99 0.3 ms
func (p Progress) String() string {
	var b strings.Builder
	b.WriteString(clock(p.Elapsed))
	if p.Total > 0 {
		b.WriteString("/" + clock(p.Total))
	}
	r := p.Recent
	fmt.Fprintf(&b, "  last %ds: intended %s/s sent %s/s dropped %s err %s p99 %s ms",
		int(r.Span/time.Second), rate(r.IntendedRPS), rate(r.SentRPS), count(r.Dropped),
		percent(r.Errors, r.Sent), millis(float64(r.P99)/1e6))
	fmt.Fprintf(&b, " | total sent %s err %s late p99 %s ms",
		count(p.Sent), percent(p.Errors, p.Sent), millis(float64(p.LatenessP99)/1e6))
	if p.Dropped > 0 {
		b.WriteString(" dropped " + count(p.Dropped))
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

// millis formats a number of milliseconds by the reports' one rule (Fig):
// 2,251, 142, 12.3, 1.23, 0.04.
func millis(v float64) string { return Fig(v) }

// rate formats a rate per second by the reports' one rule (Fig).
func rate(v float64) string { return Fig(v) }

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
