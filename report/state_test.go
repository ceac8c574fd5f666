package report

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// TestAggregatorMerge splits results among agents' aggregators, sends each
// one's state through JSON in per-second deltas, and checks the merge
// reports exactly what one aggregator fed every result reports.
func TestAggregatorMerge(t *testing.T) {
	info := RunInfo{Target: "http://127.0.0.1:1", Ratio: 2, Speed: 1, Mode: "timeline", Start: t0}
	results := concat(
		many(300, func(i int) res {
			return res{at: time.Duration(i) * 10 * time.Millisecond, late: time.Duration(i%7) * time.Millisecond, svc: time.Duration(1+i%50) * time.Millisecond, status: 200, route: []string{"GET /a", "GET /b", "POST /c"}[i%3]}
		}),
		many(20, func(i int) res {
			return res{at: time.Duration(i) * 100 * time.Millisecond, status: 503, svc: 2 * time.Millisecond}
		}),
		many(10, func(i int) res {
			return res{at: time.Duration(i) * 250 * time.Millisecond, err: schema.ErrTimeout, svc: time.Second}
		}),
		many(5, func(i int) res {
			return res{at: time.Duration(i) * 300 * time.Millisecond, err: schema.DroppedDeadline}
		}),
	)
	want := aggregate(info, results)

	for _, agents := range []int{1, 3} {
		merged := NewAggregator(info)
		// Each agent publishes a fresh aggregator's state per batch of 40,
		// as an agent does once a second.
		for a := 0; a < agents; a++ {
			var batch *Aggregator
			flush := func() {
				if batch == nil {
					return
				}
				st, err := batch.State()
				if err != nil {
					t.Fatal(err)
				}
				b, err := json.Marshal(st)
				if err != nil {
					t.Fatal(err)
				}
				var back AggregatorState
				if err := json.Unmarshal(b, &back); err != nil {
					t.Fatal(err)
				}
				if err := merged.Merge(&back); err != nil {
					t.Fatal(err)
				}
				batch = nil
			}
			n := 0
			for i, x := range results {
				if i%agents != a {
					continue
				}
				if batch == nil {
					batch = NewAggregator(info)
				}
				r := x.result()
				batch.Add(&r)
				if n++; n%40 == 0 {
					flush()
				}
			}
			flush()
		}
		got := merged.Summary()
		if !reflect.DeepEqual(got, want) {
			gj, _ := json.MarshalIndent(got, "", " ")
			wj, _ := json.MarshalIndent(want, "", " ")
			t.Errorf("%d agents: merged summary differs from one aggregator's:\ngot  %s\nwant %s", agents, gj, wj)
		}
	}
}

// TestAggregatorMergeOrigin refuses a series that does not count from a
// whole second away, and shifts one that does.
func TestAggregatorMergeOrigin(t *testing.T) {
	src := NewAggregator(RunInfo{Start: t0.Add(2 * time.Second)})
	r := res{at: 2500 * time.Millisecond, status: 200, svc: time.Millisecond}.result()
	src.Add(&r)
	st, err := src.State()
	if err != nil {
		t.Fatal(err)
	}
	dst := NewAggregator(RunInfo{Start: t0})
	if err := dst.Merge(st); err != nil {
		t.Fatalf("Merge from 2 s later = %v; want nil", err)
	}
	if ps := dst.Summary().PerSecond; len(ps) != 1 || ps[0].T != 2 || ps[0].Intended != 1 {
		t.Errorf("per second after a 2 s shift = %+v; want one request at t=2", ps)
	}
	odd := NewAggregator(RunInfo{Start: t0.Add(500 * time.Millisecond)})
	if err := odd.Merge(st); err == nil {
		t.Error("Merge from 1.5 s away = nil; want an error naming the origin")
	}
}
