package shaper_test

import (
	"io"
	"testing"
	"time"

	"github.com/surge-replay/surge/shaper"
)

func BenchmarkShaper(b *testing.B) {
	// 10,000 sessions of 10 requests over about 17 minutes: 100,000 events,
	// 300,000 requests at ratio 3.
	events := synth(10_000, 10, 100*time.Millisecond, 3*time.Second)
	cfg := shaper.Config{Ratio: shaper.Constant(3), Seed: 1}
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
