package profile

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Comparison is how profile B differs from profile A.
type Comparison struct {
	A             string      `json:"a"`
	B             string      `json:"b"`
	Curves        []CurveDiff `json:"curves"`
	Mixes         []MixDiff   `json:"mixes"`
	Distributions []DistDiff  `json:"distributions"`
	Moments       [2][]Moment `json:"-"`
	MomentsText   [2][]string `json:"moments"`
}

// CurveDiff compares one per-minute curve, the profiles aligned at their
// starts over the shorter one's minutes.
type CurveDiff struct {
	Curve string `json:"curve"`
	// Correlation is Pearson's r of the two curves; nil when one is
	// constant (r is undefined).
	Correlation *float64 `json:"correlation"`
	PeakA       float64  `json:"peak_a"`
	PeakB       float64  `json:"peak_b"`
	// PeakRatio is PeakB / PeakA (0 when A's peak is 0).
	PeakRatio float64 `json:"peak_ratio"`
	MeanA     float64 `json:"mean_a"`
	MeanB     float64 `json:"mean_b"`
	Minutes   int     `json:"minutes"`
}

// MixDiff compares one value's share of requests (in percent) between the
// profiles; DeltaPP is B − A in percentage points.
type MixDiff struct {
	Dimension string  `json:"dimension"` // route, region, device, protocol, status
	Value     string  `json:"value"`
	ShareA    float64 `json:"share_a"`
	ShareB    float64 `json:"share_b"`
	DeltaPP   float64 `json:"delta_pp"`
}

// DistDiff compares one distribution: the Kolmogorov–Smirnov distance
// (the largest difference of the two cumulative shares at a bucket edge;
// both histograms have the same edges, so it is exact at them) and the
// medians.
type DistDiff struct {
	Distribution string  `json:"distribution"` // session_length, session_requests, think_time
	Of           string  `json:"of"`           // a class, a transition "A → B", or "all"
	KS           float64 `json:"ks"`
	MedianA      float64 `json:"median_a"`
	MedianB      float64 `json:"median_b"`
	Unit         string  `json:"unit"` // ms or requests
	CountA       int64   `json:"count_a"`
	CountB       int64   `json:"count_b"`
}

// compareTransitions is how many of the most frequent transitions (in
// both profiles) Compare compares think times of.
const compareTransitions = 10

// Compare compares profile b against profile a.
func Compare(a, b *Profile) *Comparison {
	c := &Comparison{A: strings.Join(a.Meta.Capture, ", "), B: strings.Join(b.Meta.Capture, ", ")}
	floats := func(v []int64) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	c.Curves = []CurveDiff{
		curveDiff(CurveArrivals, floats(a.ArrivalCurve()), floats(b.ArrivalCurve())),
		curveDiff("requests", floats(a.RequestCurve()), floats(b.RequestCurve())),
		curveDiff(CurveConcurrency, a.ConcurrencyCurve(), b.ConcurrencyCurve()),
	}
	c.Mixes = append(c.Mixes, mixDiff("route", a.RouteMix(), b.RouteMix())...)
	for _, d := range []string{DimRegion, DimDevice, DimProtocol} {
		c.Mixes = append(c.Mixes, mixDiff(d, a.MixOf(d), b.MixOf(d))...)
	}
	c.Mixes = append(c.Mixes, mixDiff("status", a.StatusMix(""), b.StatusMix(""))...)

	c.Distributions = append(c.Distributions, distDiff("session_length", "all", "ms", a.SessionLengths(""), b.SessionLengths("")))
	for _, cl := range a.Meta.Classes {
		if slices.Contains(b.Meta.Classes, cl) {
			c.Distributions = append(c.Distributions, distDiff("session_length", cl, "ms", a.SessionLengths(cl), b.SessionLengths(cl)))
		}
	}
	c.Distributions = append(c.Distributions, distDiff("session_requests", "all", "requests", a.RequestsPerSession(""), b.RequestsPerSession("")))
	c.Distributions = append(c.Distributions, distDiff("think_time", "all", "ms", a.ThinkTimes("", ""), b.ThinkTimes("", "")))
	for _, t := range commonTransitions(a, b) {
		c.Distributions = append(c.Distributions, distDiff("think_time", t[0]+" → "+t[1], "ms", a.ThinkTimes(t[0], t[1]), b.ThinkTimes(t[0], t[1])))
	}
	for i, p := range []*Profile{a, b} {
		for _, m := range p.Moments {
			c.MomentsText[i] = append(c.MomentsText[i], m.Description)
		}
		c.Moments[i] = p.Moments
	}
	return c
}

func curveDiff(name string, a, b []float64) CurveDiff {
	n := min(len(a), len(b))
	d := CurveDiff{Curve: name, Minutes: n, PeakA: maxOf(a), PeakB: maxOf(b), MeanA: mean(a), MeanB: mean(b)}
	if d.PeakA > 0 {
		d.PeakRatio = d.PeakB / d.PeakA
	}
	if r, ok := pearson(a[:n], b[:n]); ok {
		d.Correlation = &r
	}
	return d
}

func maxOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return slices.Max(v)
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// pearson returns the correlation of x and y, false when either is
// constant or they have fewer than two points.
func pearson(x, y []float64) (float64, bool) {
	if len(x) < 2 {
		return 0, false
	}
	mx, my := mean(x), mean(y)
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0, false
	}
	return sxy / math.Sqrt(sxx*syy), true
}

// mixDiff compares two mixes over the union of their values, largest
// change first.
func mixDiff(dim string, a, b []Share) []MixDiff {
	m := map[string]*MixDiff{}
	get := func(v string) *MixDiff {
		if m[v] == nil {
			m[v] = &MixDiff{Dimension: dim, Value: v}
		}
		return m[v]
	}
	for _, s := range a {
		get(s.Value).ShareA = 100 * s.Share
	}
	for _, s := range b {
		get(s.Value).ShareB = 100 * s.Share
	}
	out := make([]MixDiff, 0, len(m))
	for _, d := range m {
		d.DeltaPP = d.ShareB - d.ShareA
		out = append(out, *d)
	}
	slices.SortFunc(out, func(x, y MixDiff) int {
		if c := cmp.Compare(math.Abs(y.DeltaPP), math.Abs(x.DeltaPP)); c != 0 {
			return c
		}
		return cmp.Compare(x.Value, y.Value)
	})
	return out
}

// KS returns the Kolmogorov–Smirnov distance of two histograms with the
// same bucket edges: the largest difference of their cumulative shares at
// a bucket edge. It is 0 when either is empty.
func KS(a, b []Bucket) float64 {
	ta, tb := total(a), total(b)
	if ta == 0 || tb == 0 {
		return 0
	}
	var ca, cb int64
	d := 0.0
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		// Advance to the next upper edge of either histogram.
		edge := int64(math.MaxInt64)
		if i < len(a) {
			edge = a[i].Upper
		}
		if j < len(b) && b[j].Upper < edge {
			edge = b[j].Upper
		}
		for i < len(a) && a[i].Upper <= edge {
			ca += a[i].Count
			i++
		}
		for j < len(b) && b[j].Upper <= edge {
			cb += b[j].Count
			j++
		}
		d = max(d, math.Abs(float64(ca)/float64(ta)-float64(cb)/float64(tb)))
	}
	return d
}

func total(h []Bucket) int64 {
	var n int64
	for _, b := range h {
		n += b.Count
	}
	return n
}

func distDiff(name, of, unit string, a, b []Bucket) DistDiff {
	return DistDiff{Distribution: name, Of: of, Unit: unit, KS: KS(a, b), MedianA: Quantile(a, .5), MedianB: Quantile(b, .5),
		CountA: total(a), CountB: total(b)}
}

// commonTransitions returns the most frequent route transitions of a that
// b has too.
func commonTransitions(a, b *Profile) [][2]string {
	inB := map[[2]string]bool{}
	for _, r := range b.ThinkTime {
		inB[[2]string{r.From, r.To}] = true
	}
	counts := map[[2]string]int64{}
	for _, r := range a.ThinkTime {
		if k := [2]string{r.From, r.To}; inB[k] {
			counts[k] += r.Count
		}
	}
	keys := make([][2]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y [2]string) int {
		if c := cmp.Compare(counts[y], counts[x]); c != 0 {
			return c
		}
		return cmp.Compare(x[0]+x[1], y[0]+y[1])
	})
	return keys[:min(len(keys), compareTransitions)]
}

// mixRows is how many values per dimension WriteText lists.
const mixRows = 8

// WriteText writes the comparison as text tables.
func (c *Comparison) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "A: %s\nB: %s\n\ncurves (per minute, aligned at the start)\n", c.A, c.B)
	fmt.Fprintf(bw, "  %-12s %11s %10s %10s %10s %10s %10s\n", "curve", "correlation", "peak A", "peak B", "B/A", "mean A", "mean B")
	for _, d := range c.Curves {
		r := "n/a"
		if d.Correlation != nil {
			r = fmt.Sprintf("%.3f", *d.Correlation)
		}
		fmt.Fprintf(bw, "  %-12s %11s %10.1f %10.1f %10.2f %10.1f %10.1f\n", d.Curve, r, d.PeakA, d.PeakB, d.PeakRatio, d.MeanA, d.MeanB)
	}
	fmt.Fprintf(bw, "\nmixes (share of requests, B − A in percentage points, largest changes)\n")
	dim, n := "", 0
	for _, m := range c.Mixes {
		if m.Dimension != dim {
			dim, n = m.Dimension, 0
			fmt.Fprintf(bw, "  %s\n", dim)
		}
		if n++; n > mixRows {
			continue
		}
		fmt.Fprintf(bw, "    %+7.2fpp  %6.2f%% → %6.2f%%  %s\n", m.DeltaPP, m.ShareA, m.ShareB, m.Value)
	}
	fmt.Fprintf(bw, "\ndistributions (KS distance, medians)\n")
	for _, d := range c.Distributions {
		a, b := fmt.Sprintf("%.0f", d.MedianA), fmt.Sprintf("%.0f", d.MedianB)
		if d.Unit == "ms" {
			a, b = ms(d.MedianA), ms(d.MedianB)
		}
		fmt.Fprintf(bw, "  KS %.3f  median %8s → %8s  %s (%s)\n", d.KS, a, b, d.Distribution, d.Of)
	}
	for i, name := range []string{"A", "B"} {
		fmt.Fprintf(bw, "\nnotable moments of %s\n", name)
		if len(c.MomentsText[i]) == 0 {
			fmt.Fprintf(bw, "  none\n")
		}
		for _, m := range c.MomentsText[i] {
			fmt.Fprintf(bw, "  %s\n", m)
		}
	}
	return bw.Flush()
}
