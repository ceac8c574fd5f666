package profile

import "testing"

// TestQuantile checks histogram quantiles: exact in one-unit buckets (a
// session of 1 request is 1, not 1.5 shown as 2), interpolated in wider
// ones.
func TestQuantile(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    []Bucket
		q    float64
		want float64
	}{
		// one session of one request: p50 and p90 are 1
		{"one request p50", []Bucket{{1, 2, 1}}, .5, 1},
		{"one request p90", []Bucket{{1, 2, 1}}, .9, 1},
		// half 1-request, half 3-request sessions: p90 in [3, 4) is 3
		{"discrete p90", []Bucket{{1, 2, 5}, {3, 4, 5}}, .9, 3},
		// a wide bucket interpolates: p50 of 10 values in [100, 200) is 150
		{"wide bucket", []Bucket{{100, 200, 10}}, .5, 150},
		// empty: 0
		{"empty", nil, .5, 0},
	} {
		if got := Quantile(tc.h, tc.q); got != tc.want {
			t.Errorf("%s: Quantile(%v, %v) = %v; want %v", tc.name, tc.h, tc.q, got, tc.want)
		}
	}
}
