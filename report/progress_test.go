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
		// The usual line, with the planned length.
		{Progress{Elapsed: 42 * time.Second, Total: time.Minute, Sent: 12345, Errors: 37, Rate: 2001,
			P99: 142 * time.Millisecond, LatenessP99: 300 * time.Microsecond},
			"elapsed 0:42/1:00  sent 12,345 (2,001/s)  err 0.3%  p99 142 ms  late p99 0.3 ms"},
		// Hours, drops, a slow rate and tiny lateness.
		{Progress{Elapsed: 3723 * time.Second, Sent: 10, Dropped: 1204, Rate: 2.5,
			P99: 12340 * time.Microsecond, LatenessP99: 40 * time.Microsecond},
			"elapsed 1:02:03  sent 10 (2.5/s)  err 0.0%  p99 12.3 ms  late p99 0.04 ms  dropped 1,204"},
		// Before anything was sent.
		{Progress{}, "elapsed 0:00  sent 0 (0.0/s)  err -  p99 0 ms  late p99 0 ms"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("Progress%+v.String() = %q; want %q", tt.p, got, tt.want)
		}
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
