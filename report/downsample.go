package report

import "math"

// MaxChartPoints is how many points a chart's series keeps at most: runs
// longer than that many seconds are downsampled (as vegeta's plot does).
const MaxChartPoints = 4000

// Downsample returns the points (xs[i], ys[i]) of a series cut to at most
// limit points without hiding its peaks: the series is split into
// limit/2 buckets of consecutive points and each bucket keeps its lowest and
// its highest point, in x order. NaN values (gaps) are skipped; a bucket of
// NaN only keeps one NaN point, so the gap stays a gap. A series of at most
// limit points is returned as it is. limit below 2 counts as 2.
func Downsample(xs, ys []float64, limit int) (outX, outY []float64) {
	n := min(len(xs), len(ys))
	limit = max(limit, 2)
	if n <= limit {
		return xs[:n], ys[:n]
	}
	buckets := limit / 2
	outX = make([]float64, 0, limit)
	outY = make([]float64, 0, limit)
	for b := range buckets {
		lo, hi := b*n/buckets, (b+1)*n/buckets
		iMin, iMax := -1, -1
		for i := lo; i < hi; i++ {
			if math.IsNaN(ys[i]) {
				continue
			}
			if iMin < 0 || ys[i] < ys[iMin] {
				iMin = i
			}
			if iMax < 0 || ys[i] > ys[iMax] {
				iMax = i
			}
		}
		switch {
		case iMin < 0:
			outX, outY = append(outX, xs[lo]), append(outY, math.NaN())
		case iMin == iMax:
			outX, outY = append(outX, xs[iMin]), append(outY, ys[iMin])
		case iMin < iMax:
			outX, outY = append(outX, xs[iMin], xs[iMax]), append(outY, ys[iMin], ys[iMax])
		default:
			outX, outY = append(outX, xs[iMax], xs[iMin]), append(outY, ys[iMax], ys[iMin])
		}
	}
	return outX, outY
}
