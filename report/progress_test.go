package report

import (
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

func TestSnapshot(t *testing.T) {
	ms := time.Millisecond
	a := NewAggregator(RunInfo{Start: t0})
	// 50 requests in second 0, 20 in second 1 (two of them 503), 1 dropped.
	results := concat(
		many(50, func(i int) res { return res{at: time.Duration(i) * 20 * ms, svc: 10 * ms, status: 200} }),
		many(20, func(i int) res {
			return res{at: time.Second + time.Duration(i)*50*ms, late: 2 * ms, svc: 10 * ms, status: []int32{200, 503}[i/18]}
		}),
		[]res{{at: 1500 * ms, err: schema.DroppedCap}})
	for _, x := range results {
		r := x.result()
		a.Add(&r)
	}
	tests := []struct {
		now  time.Time
		want Progress
	}{
		// Inside second 1: the last complete second is 0.
		{t0.Add(1500 * ms), Progress{Elapsed: 1500 * ms, Rate: 50}},
		// Inside second 2: the last complete second is 1.
		{t0.Add(2 * time.Second), Progress{Elapsed: 2 * time.Second, Rate: 20}},
		// Long after: no rate.
		{t0.Add(time.Minute), Progress{Elapsed: time.Minute}},
		// A clock before the start.
		{t0.Add(-time.Second), Progress{}},
	}
	for _, tt := range tests {
		got := a.snapshot(tt.now)
		if got.Scheduled != 71 || got.Sent != 70 || got.Errors != 2 || got.Dropped != 1 {
			t.Errorf("snapshot(%v) counts = %+v; want 71 scheduled, 70 sent, 2 errors, 1 dropped", tt.now, got)
		}
		if got.Elapsed != tt.want.Elapsed || got.Rate != tt.want.Rate {
			t.Errorf("snapshot(%v) elapsed, rate = %v, %v; want %v, %v", tt.now, got.Elapsed, got.Rate, tt.want.Elapsed, tt.want.Rate)
		}
		if got.P99 != 12*ms || got.LatenessP99 != 2*ms {
			t.Errorf("snapshot(%v) p99, lateness p99 = %v, %v; want 12ms, 2ms", tt.now, got.P99, got.LatenessP99)
		}
	}
	// Nothing added yet.
	if got := NewAggregator(RunInfo{}).Snapshot(); got != (Progress{}) {
		t.Errorf("Snapshot() of nothing = %+v; want zero", got)
	}
}

func TestProgressString(t *testing.T) {
	tests := []struct {
		p    Progress
		want string
	}{
		// The usual line, with the planned length: the last 5 s, then totals.
		{Progress{Elapsed: 42 * time.Second, Total: time.Minute, Sent: 12345, Errors: 37, Rate: 2001,
			P99: 142 * time.Millisecond, LatenessP99: 300 * time.Microsecond,
			Recent: Recent{Span: 5 * time.Second, IntendedRPS: 2000, SentRPS: 2001, Sent: 10005, Errors: 50, P99: 151 * time.Millisecond}},
			"0:42/1:00  last 5s: intended 2,000/s sent 2,001/s dropped 0 err 0.5% p99 151 ms | total sent 12,345 err 0.3% late p99 0.3 ms"},
		// Hours, drops, a slow rate and tiny lateness.
		{Progress{Elapsed: 3723 * time.Second, Sent: 10, Dropped: 1204, Rate: 2.5,
			P99: 12340 * time.Microsecond, LatenessP99: 40 * time.Microsecond,
			Recent: Recent{Span: 5 * time.Second, IntendedRPS: 240, SentRPS: 2.5, Sent: 12, Dropped: 1188, P99: 12340 * time.Microsecond}},
			"1:02:03  last 5s: intended 240/s sent 2.5/s dropped 1,188 err 0.0% p99 12.3 ms | total sent 10 err 0.0% late p99 0.04 ms dropped 1,204"},
		// Before anything was sent.
		{Progress{}, "0:00  last 0s: intended 0/s sent 0/s dropped 0 err - p99 0 ms | total sent 0 err - late p99 0 ms"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("Progress%+v.String() =\n %q; want\n %q", tt.p, got, tt.want)
		}
	}
}

// TestSnapshotRecent: the live figures cover the last complete seconds
// only, so a change now shows now, not diluted by the run so far.
func TestSnapshotRecent(t *testing.T) {
	ms := time.Millisecond
	a := NewAggregator(RunInfo{Start: t0})
	// Seconds 0-9: 10 req/s, 10 ms, no errors. Seconds 10-14: 20 req/s,
	// half of them 503 at 200 ms.
	results := concat(
		many(100, func(i int) res { return res{at: time.Duration(i) * 100 * ms, svc: 10 * ms, status: 200} }),
		many(100, func(i int) res {
			return res{at: 10*time.Second + time.Duration(i)*50*ms, svc: 200 * ms, status: []int32{200, 503}[i%2]}
		}))
	for _, x := range results {
		r := x.result()
		a.Add(&r)
	}
	got := a.snapshot(t0.Add(15*time.Second + 300*ms)).Recent
	if got.Span != 5*time.Second || got.IntendedRPS != 20 || got.Sent != 100 || got.Errors != 50 {
		t.Errorf("recent %+v; want 5 s at 20/s intended, 100 sent, 50 errors", got)
	}
	if got.P99 < 195*ms || got.P99 > 205*ms {
		t.Errorf("recent p99 %v; want about 200ms (the run's p99 is lower)", got.P99)
	}
	// Two seconds in: only the complete seconds count.
	early := a.snapshot(t0.Add(2*time.Second + 500*ms)).Recent
	if early.Span != 2*time.Second || early.IntendedRPS != 10 || early.Errors != 0 {
		t.Errorf("recent after 2.5 s %+v; want 2 s at 10/s, no errors", early)
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		s    RunSummary
		want string
	}{
		// On time.
		{RunSummary{Scheduled: 10, Sent: 10, Lateness: Lateness{P99: 0.4}, GeneratorKeptUp: true},
			"generator kept up: p99 lateness 0.4 ms"},
		// Late, and dropping for lateness.
		{RunSummary{Scheduled: 9000, Sent: 7796, Lateness: Lateness{P99: 180}, Dropped: 1204,
			DroppedBy: map[string]int64{schema.DroppedDeadline: 1204}},
			"GENERATOR FELL BEHIND: p99 lateness 180 ms, 1,204 requests dropped past the deadline — latency figures include generator delay"},
		// Late without drops.
		{RunSummary{Scheduled: 10, Sent: 10, Lateness: Lateness{P99: 6.2}},
			"GENERATOR FELL BEHIND: p99 lateness 6.2 ms — latency figures include generator delay"},
		// Closed loop: lateness is a session's wake-up after its think time.
		{RunSummary{RunInfo: RunInfo{Mode: "closed"}, Scheduled: 10, Sent: 10, Lateness: Lateness{P99: 6.2}, GeneratorKeptUp: true},
			"generator kept up: p99 lateness 6.2 ms (closed loop: how late a session woke after its think time; bound 20ms)"},
		{RunSummary{RunInfo: RunInfo{Mode: "closed"}, Scheduled: 10, Sent: 10, Lateness: Lateness{P99: 31}},
			"GENERATOR FELL BEHIND: p99 lateness 31 ms after think time (closed-loop bound 20ms) — latency figures include generator delay"},
		// Nothing sent.
		{RunSummary{Scheduled: 3, Dropped: 3}, "nothing sent: all 3 requests dropped"},
		// Nothing at all.
		{RunSummary{}, "no results"},
	}
	for _, tt := range tests {
		if got := tt.s.Verdict(); got != tt.want {
			t.Errorf("Verdict() = %q; want %q", got, tt.want)
		}
	}
}

func TestMillis(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"},         // nothing
		{0.001, "0.001"}, // one microsecond
		{0.04, "0.04"},   // tens of microseconds
		{0.4, "0.4"},     // hundreds
		{12.345, "12.3"}, // milliseconds
		{99.96, "100"},   // rounds up into whole numbers
		{5001.2, "5,001"},
	}
	for _, tt := range tests {
		if got := millis(tt.v); got != tt.want {
			t.Errorf("millis(%v) = %q; want %q", tt.v, got, tt.want)
		}
	}
}
