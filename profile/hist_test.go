package profile

import "testing"

// TestBuckets checks that every value falls inside its bucket's bounds,
// that buckets are contiguous, and their relative width.
func TestBuckets(t *testing.T) {
	for _, tc := range []struct {
		v            int64
		lower, upper int64
	}{
		{-5, 0, 1},         // negative counts as 0
		{0, 0, 1},          // exact below 16
		{15, 15, 16},       // last exact bucket
		{16, 16, 18},       // first split octave: width 2
		{17, 16, 18},       // same bucket
		{31, 30, 32},       // top of the octave
		{1000, 960, 1024},  // 2^9 octave, width 64
		{6000, 5632, 6144}, // a 6 s think time
	} {
		lo, hi := bucketBounds(bucketOf(tc.v))
		if lo != tc.lower || hi != tc.upper {
			t.Errorf("bucketBounds(bucketOf(%d)) = [%d, %d); want [%d, %d)", tc.v, lo, hi, tc.lower, tc.upper)
		}
	}
	prevUpper := int64(0)
	for i := 0; i < 400; i++ {
		lo, hi := bucketBounds(i)
		if lo != prevUpper {
			t.Fatalf("bucket %d starts at %d; previous ended at %d", i, lo, prevUpper)
		}
		if bucketOf(lo) != i || bucketOf(hi-1) != i {
			t.Fatalf("bucket %d = [%d, %d) but bucketOf(%d) = %d, bucketOf(%d) = %d", i, lo, hi, lo, bucketOf(lo), hi-1, bucketOf(hi-1))
		}
		if lo >= 16 && float64(hi-lo) > 0.125*float64(lo) {
			t.Fatalf("bucket %d = [%d, %d) wider than 12.5%%", i, lo, hi)
		}
		prevUpper = hi
		if hi > 1<<50 {
			break
		}
	}
}
