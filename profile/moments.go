package profile

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// The detection rule of notable moments (docs/PROFILES.md):
//
// The curves are per minute: new sessions per minute (CurveArrivals) and
// the mean of the per-second live sessions over each minute
// (CurveConcurrency). Minutes within MomentEdge of either end of the
// capture are not searched (see momentEdge). A candidate is a pair of
// minutes a < b = a+w, w ≤ MomentWindow, both searched, whose values x, y
// differ by
//
//	|y − x| ≥ MomentChange·x   (relative: 30% by default), and
//	|y − x| ≥ MomentZ·√(x + y) (beyond count noise: a Poisson count's
//	                            difference has standard deviation √(x+y)).
//
// Candidates are taken greedily by the size of the change |y − x|, then
// the shorter, then the earlier; a candidate whose minutes overlap one
// taken (sharing only an end minute is allowed, so a peak is a rise and a
// drop) is dropped. A moment is reported at minute a+1 (the first minute
// the change shows) lasting w minutes, with the route groups whose
// requests per minute changed most between minutes a and b by the same
// two tests (at most three, largest change first).

// maxMovedRoutes is how many routes a moment names.
const maxMovedRoutes = 3

// detectMoments finds the notable moments of p's arrival and concurrency
// curves, in time order.
func detectMoments(p *Profile) []Moment {
	par := p.Meta.Parameters
	arr := make([]float64, len(p.ArrivalsMinute))
	for i, r := range p.ArrivalsMinute {
		arr[i] = float64(r.Sessions)
	}
	conc := concurrencyPerMinute(p)
	routes := make([]map[string]int64, p.Meta.Minutes)
	for _, r := range p.RoutesMinute {
		m := int(r.Time.Sub(p.Meta.Start) / time.Minute)
		if routes[m] == nil {
			routes[m] = map[string]int64{}
		}
		routes[m][r.Route] = r.Requests
	}
	var out []Moment
	for _, c := range []struct {
		curve string
		v     []float64
	}{{CurveArrivals, arr}, {CurveConcurrency, conc}} {
		for _, s := range findChanges(c.v, par.MomentEdge, par.MomentWindow, par.MomentChange, par.MomentZ) {
			out = append(out, describe(p, c.curve, c.v, s, routes))
		}
	}
	slices.SortStableFunc(out, func(a, b Moment) int { return a.Time.Compare(b.Time) })
	return out
}

// concurrencyPerMinute returns the mean live sessions of each minute.
func concurrencyPerMinute(p *Profile) []float64 {
	out := make([]float64, p.Meta.Minutes)
	n := make([]int, p.Meta.Minutes)
	for i, r := range p.Concurrency {
		out[i/60] += float64(r.Live)
		n[i/60]++
	}
	for m := range out {
		if n[m] > 0 {
			out[m] /= float64(n[m])
		}
	}
	return out
}

// change is a candidate moment: from minute a to minute a+w.
type change struct{ a, w int }

// significant reports whether x → y passes both tests of the rule.
func significant(x, y, rel, z float64) bool {
	d := math.Abs(y - x)
	return d >= rel*x && d >= z*math.Sqrt(x+y) && d > 0
}

// findChanges applies the detection rule to the per-minute curve v.
func findChanges(v []float64, edge, window int, rel, z float64) []change {
	lo, hi := edge, len(v)-edge // searched minutes: [lo, hi)
	var cands []change
	for a := lo; a < hi; a++ {
		for w := 1; w <= window && a+w < hi; w++ {
			if significant(v[a], v[a+w], rel, z) {
				cands = append(cands, change{a, w})
			}
		}
	}
	size := func(c change) float64 { return math.Abs(v[c.a+c.w] - v[c.a]) }
	slices.SortStableFunc(cands, func(p, q change) int {
		if c := cmp.Compare(size(q), size(p)); c != 0 {
			return c
		}
		if c := cmp.Compare(p.w, q.w); c != 0 {
			return c
		}
		return cmp.Compare(p.a, q.a)
	})
	var taken []change
	for _, c := range cands {
		if !slices.ContainsFunc(taken, func(t change) bool { return c.a < t.a+t.w && t.a < c.a+c.w }) {
			taken = append(taken, c)
		}
	}
	slices.SortFunc(taken, func(p, q change) int { return cmp.Compare(p.a, q.a) })
	return taken
}

// describe makes the Moment of change c on curve v.
func describe(p *Profile, curve string, v []float64, c change, routes []map[string]int64) Moment {
	par := p.Meta.Parameters
	x, y := v[c.a], v[c.a+c.w]
	m := Moment{Time: p.Meta.Start.Add(time.Duration(c.a+1) * time.Minute), Minutes: int32(c.w), Curve: curve, From: x, To: y}
	if x > 0 {
		m.Change = (y - x) / x
	} else {
		m.Change = math.Inf(1)
	}
	type moved struct {
		route string
		x, y  int64
	}
	var mv []moved
	before, after := routes[c.a], routes[c.a+c.w]
	for _, r := range p.Meta.Routes {
		rx, ry := before[r], after[r]
		if significant(float64(rx), float64(ry), par.MomentChange, par.MomentZ) {
			mv = append(mv, moved{r, rx, ry})
		}
	}
	slices.SortStableFunc(mv, func(a, b moved) int { return cmp.Compare(abs64(b.y-b.x), abs64(a.y-a.x)) })
	var parts []string
	for _, r := range mv[:min(len(mv), maxMovedRoutes)] {
		parts = append(parts, fmt.Sprintf("%s %d→%d/min (%s)", r.route, r.x, r.y, factor(float64(r.x), float64(r.y))))
	}
	m.Routes = strings.Join(parts, "; ")
	verb, what, unit := "rose", "new sessions per minute", "sessions/min"
	if y < x {
		verb = "fell"
	}
	if curve == CurveConcurrency {
		what, unit = "concurrency", "live sessions"
	}
	minutes := "minute"
	if c.w > 1 {
		minutes = "minutes"
	}
	pct := "from none"
	if x > 0 {
		pct = fmt.Sprintf("%.0f%%", math.Abs(m.Change)*100)
	}
	m.Description = fmt.Sprintf("at %s %s %s %s in %d %s (%s → %s %s)", m.Time.Format("15:04"), what, verb, pct, c.w, minutes,
		num(x), num(y), unit)
	if m.Routes != "" {
		m.Description += "; " + m.Routes
	}
	return m
}

// factor writes y relative to x: "×3.0", "×0.40", "new".
func factor(x, y float64) string {
	switch {
	case x == 0:
		return "new"
	case y/x >= 1:
		return fmt.Sprintf("×%.1f", y/x)
	}
	return fmt.Sprintf("×%.2f", y/x)
}

// num writes a curve value: whole numbers plainly, others with one decimal.
func num(v float64) string {
	if v == math.Trunc(v) || v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
