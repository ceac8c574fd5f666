package profile

import "math/bits"

// HistogramScheme describes the buckets of every histogram in a profile
// (think times and session lengths in milliseconds, requests per session
// in requests), as written to profile.yaml.
const HistogramScheme = "values 0-15 one bucket each; above, 8 equal buckets per power of two (width <= 12.5% of the value)"

// bucketOf returns the histogram bucket of v (negative v counts as 0):
// values below 16 have a bucket each, and each power of two above is split
// into 8 equal buckets, as HDR histograms do with 3 significant bits.
func bucketOf(v int64) int {
	if v < 16 {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	o := bits.Len64(uint64(v)) - 1 // 2^o <= v < 2^(o+1), o >= 4
	sub := int(v>>(o-3)) & 7
	return 16 + (o-4)*8 + sub
}

// bucketBounds returns bucket i's range [lower, upper).
func bucketBounds(i int) (lower, upper int64) {
	if i < 16 {
		return int64(i), int64(i) + 1
	}
	o := (i-16)/8 + 4
	sub := int64((i - 16) % 8)
	return (8 + sub) << (o - 3), (9 + sub) << (o - 3)
}

// hist is a sparse histogram: counts by bucket, grown to the highest
// bucket used.
type hist []int64

func (h *hist) add(v int64) {
	b := bucketOf(v)
	if b >= len(*h) {
		*h = append(*h, make([]int64, b+1-len(*h))...)
	}
	(*h)[b]++
}
