package profile

import (
	"context"
	"testing"
)

// BenchmarkBuild builds the profile of the steady capture with the
// planted drop (about 90,000 requests of 2,400 sessions) and reports
// events per second. The 20M-event measurement is section F of make bench
// (docs/BENCHMARKS.md).
func BenchmarkBuild(b *testing.B) {
	path := steadyCapture(b, true)
	p, err := Build(context.Background(), []string{path}, Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Build(context.Background(), []string{path}, Config{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(p.Meta.Requests)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
