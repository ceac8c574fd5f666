package shaper_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

func BenchmarkShaper(b *testing.B) {
	// 10,000 sessions of 10 requests over about 17 minutes: 100,000 events,
	// 300,000 requests at ratio 3.
	events := synth(10_000, 10, 100*time.Millisecond, 3*time.Second)
	cfg := shaper.Config{Ratio: shaper.Constant(3), Seed: 1}
	benchShape(b, cfg, events)
}

// BenchmarkShaperClasses is BenchmarkShaper with per-class ratios: 20 rules
// (the sessions match the last ones or none) and 3 curves on the classes
// most sessions fall in. Its requests/s should stay at 80% or more of
// BenchmarkShaper's (docs/SHAPING.md).
func BenchmarkShaperClasses(b *testing.B) {
	events := synth(10_000, 10, 100*time.Millisecond, 3*time.Second)
	set := shaper.Settings{}
	for i := range 18 {
		set.Ratios = append(set.Ratios, shaper.ClassSpec{Match: shaper.Conds{fmt.Sprintf("path=/other%d/**", i), "device=tv"}, Ratio: 2})
	}
	set.Ratios = append(set.Ratios,
		shaper.ClassSpec{Name: "live", Match: shaper.Conds{"path=/live/**"}, Ratio: 3, Curves: []shaper.CurveSpec{
			{Step: []shaper.PointSpec{{At: "+2m", Value: 2}, {At: "+10m", Value: 1}}},
			{Spike: &shaper.SpikeSpec{At: "+8m", Peak: 2, Rise: shaper.Duration(time.Minute), Fall: shaper.Duration(time.Minute)}},
		}},
		shaper.ClassSpec{Name: "vod", Match: shaper.Conds{"path~^/vod/"}, Ratio: 3},
	)
	set.Curves = []shaper.CurveSpec{{Ramp: &shaper.RampSpec{From: 0.5, To: 1.5, Over: shaper.Duration(15 * time.Minute)}}}
	classes, err := set.Classes(base, 3)
	if err != nil {
		b.Fatal(err)
	}
	cfg := shaper.Config{Ratio: classes, Seed: 1}
	benchShape(b, cfg, events)
}

// benchShape shapes events with cfg once per iteration, reporting
// requests/s and ns/request.
func benchShape(b *testing.B, cfg shaper.Config, events []schema.Exchange) {
	b.ReportAllocs()
	var requests int64
	for b.Loop() {
		s, err := shaper.New(cfg, open(events))
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			requests++
		}
	}
	b.ReportMetric(float64(requests)/b.Elapsed().Seconds(), "requests/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(requests), "ns/request")
}
