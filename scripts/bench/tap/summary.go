package main

// Summaries of histograms: the tap's added-latency metric and this
// process's stop-the-world pauses.

import (
	"fmt"
	"math"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// pauses summarizes this process's stop-the-world pauses (runtime/metrics,
// from the stop request to the world running again): for collections and
// for the rest (GOMAXPROCS changes among them).
func pauses() string {
	ss := []metrics.Sample{{Name: "/sched/pauses/total/gc:seconds"}, {Name: "/sched/pauses/total/other:seconds"}}
	metrics.Read(ss)
	var parts []string
	for _, s := range ss {
		h := s.Value.Float64Histogram()
		c := cumulative(h.Counts)
		// Buckets[i+1] is the upper bound of Counts[i].
		at := func(q float64) string { return bucketBound(h.Buckets[1:], c, q) }
		name := strings.TrimSuffix(strings.TrimPrefix(s.Name, "/sched/pauses/total/"), ":seconds")
		parts = append(parts, fmt.Sprintf("%s %d, p50 ≤ %s, p99 ≤ %s, max ≤ %s", name, c[len(c)-1], at(0.5), at(0.99), at(1)))
	}
	return strings.Join(parts, "; ")
}

// addedHistogram summarizes the tap's added-latency histogram: the
// requests counted and the bucket bounds that hold p50 and p99.
func addedHistogram(reg *prometheus.Registry) string {
	mfs, err := reg.Gather()
	if err != nil {
		return err.Error()
	}
	for _, mf := range mfs {
		if mf.GetName() != "surge_capture_added_latency_seconds" {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		return fmt.Sprintf("%d requests, p50 ≤ %s, p99 ≤ %s", h.GetSampleCount(), bucketAt(h, 0.5), bucketAt(h, 0.99))
	}
	return "none"
}

func bucketAt(h *dto.Histogram, q float64) string {
	var bounds []float64
	var counts []uint64
	for _, b := range h.GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
		counts = append(counts, b.GetCumulativeCount())
	}
	// Prometheus leaves the +Inf bucket out: its count is the total.
	return bucketBound(append(bounds, math.Inf(1)), append(counts, h.GetSampleCount()), q)
}

// cumulative returns the running sums of counts.
func cumulative(counts []uint64) []uint64 {
	c := make([]uint64, len(counts))
	var n uint64
	for i, v := range counts {
		n += v
		c[i] = n
	}
	return c
}

// bucketBound returns the upper bound (seconds, printed as a duration) of
// the first bucket whose cumulative count reaches the quantile q of all.
func bucketBound(upper []float64, cum []uint64, q float64) string {
	if len(cum) == 0 || cum[len(cum)-1] == 0 {
		return "-"
	}
	want := q * float64(cum[len(cum)-1])
	for i, c := range cum {
		if float64(c) >= want && c > 0 {
			if math.IsInf(upper[i], 1) {
				return "> last bucket"
			}
			return time.Duration(upper[i] * 1e9).String()
		}
	}
	return "-"
}
