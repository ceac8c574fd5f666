package report

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/surge-replay/surge/schema"
)

// CompareOptions configure Compare. The zero value compares without bounds
// (nothing is a regression) with the defaults below.
type CompareOptions struct {
	// MaxP50Increase and MaxP99Increase bound a route's relative latency
	// increase (0.1 = 10%); zero or negative means no bound.
	MaxP50Increase, MaxP99Increase float64
	// MaxErrorRateIncrease bounds a route's error-rate increase in
	// fraction points (0.005 = 0.5 percentage points); zero or negative
	// means no bound.
	MaxErrorRateIncrease float64
	// MinRequests is the fewest sent requests a route needs on both sides
	// to be judged. Zero means 30.
	MinRequests int
	// Resamples is the number of bootstrap resamples. Zero means 1,000.
	Resamples int
	// Seed seeds the bootstrap. Zero means 1. The same inputs and seed give
	// the same intervals.
	Seed uint64
}

func (o *CompareOptions) minRequests() int64 { return int64(positive(o.MinRequests, 30)) }
func (o *CompareOptions) resamples() int     { return positive(o.Resamples, 1000) }
func (o *CompareOptions) seed() uint64 {
	if o.Seed == 0 {
		return 1
	}
	return o.Seed
}

func positive(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// compareSamples is the most latencies a side keeps per route (a uniform
// reservoir sample beyond it), and compareRoutes the most routes compared
// (by volume; the rest are left out and counted).
const (
	compareSamples = 5000
	compareRoutes  = 200
	// AllRoutes names the row of every route together.
	AllRoutes = "(all routes)"
)

// Route statuses of a comparison.
const (
	DeltaOK         = "ok"
	DeltaRegression = "regression"
	DeltaTooFew     = "too few"
	DeltaNewRoute   = "new route"
	DeltaGone       = "gone"
)

// CompareReport is the per-route regression table of NEW against BASE.
type CompareReport struct {
	Base       string       `json:"base"`
	New        string       `json:"new"`
	Resamples  int          `json:"resamples"`
	Confidence float64      `json:"confidence"`
	Seed       uint64       `json:"seed"`
	Bounds     Bounds       `json:"bounds"`
	Overall    RouteDelta   `json:"overall"`
	Routes     []RouteDelta `json:"routes"`
	// LeftOut counts routes past the first compareRoutes by volume.
	LeftOut     int `json:"left_out"`
	Regressions int `json:"regressions"`
}

// Bounds are the regression bounds of a comparison (see CompareOptions);
// zero means none.
type Bounds struct {
	MaxP50IncreasePct      float64 `json:"max_p50_increase_pct"`
	MaxP99IncreasePct      float64 `json:"max_p99_increase_pct"`
	MaxErrorRateIncreasePP float64 `json:"max_error_rate_increase_pp"`
	MinRequests            int64   `json:"min_requests"`
}

// RouteDelta compares one route. Latencies are ms from the intended time;
// their deltas are relative, in percent, with the bootstrap interval
// [low, high]; error rates are of new failures (see Compare), their delta
// in percentage points.
type RouteDelta struct {
	Route      string     `json:"route"`
	Status     string     `json:"status"`
	Regressed  []string   `json:"regressed,omitempty"`
	BaseSent   int64      `json:"base_sent"`
	NewSent    int64      `json:"new_sent"`
	BaseP50    float64    `json:"base_p50_ms"`
	NewP50     float64    `json:"new_p50_ms"`
	P50Pct     float64    `json:"p50_delta_pct"`
	P50CI      [2]float64 `json:"p50_delta_pct_ci"`
	BaseP99    float64    `json:"base_p99_ms"`
	NewP99     float64    `json:"new_p99_ms"`
	P99Pct     float64    `json:"p99_delta_pct"`
	P99CI      [2]float64 `json:"p99_delta_pct_ci"`
	BaseErrPct float64    `json:"base_error_rate_pct"`
	NewErrPct  float64    `json:"new_error_rate_pct"`
	ErrPP      float64    `json:"error_rate_delta_pp"`
	ErrCI      [2]float64 `json:"error_rate_delta_pp_ci"`
	// BaseAsRecorded and NewAsRecorded count failed responses with the
	// status the capture recorded (not new failures).
	BaseAsRecorded int64 `json:"base_as_recorded"`
	NewAsRecorded  int64 `json:"new_as_recorded"`
}

// side is one run's results per route.
type side struct {
	routes map[string]*sideRoute
	all    sideRoute
	seen   int64
	rng    *rand.Rand
}

type sideRoute struct {
	sent, failed, asRecorded, seen int64
	lat                            []float64 // ms, a reservoir sample
}

func (s *sideRoute) add(r *schema.Result, rng *rand.Rand) {
	s.sent++
	if class := classify(r); class != "" {
		if asRecorded(r) {
			s.asRecorded++
		} else {
			s.failed++
		}
	}
	ms := float64(r.LatencyNS) / 1e6
	s.seen++
	if len(s.lat) < compareSamples {
		s.lat = append(s.lat, ms)
	} else if j := rng.Int64N(s.seen); j < compareSamples {
		s.lat[j] = ms
	}
}

// readSide reads a run's results into a side.
func readSide(paths []string, seed uint64) (*side, error) {
	next, _, closeFn, err := openResults(paths)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	s := &side{routes: map[string]*sideRoute{}, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
	var r schema.Result
	for {
		if err := next(&r); err != nil {
			if errors.Is(err, io.EOF) {
				return s, nil
			}
			return nil, err
		}
		if schema.IsDropped(r.Error) {
			continue
		}
		rt, ok := s.routes[r.Route]
		if !ok {
			rt = &sideRoute{}
			s.routes[strings.Clone(r.Route)] = rt
		}
		rt.add(&r, s.rng)
		s.all.add(&r, s.rng)
	}
}

// Compare compares the results of run NEW with those of run BASE (results
// files or dataset directories, as the replay writes them: summary JSONs
// hold no distributions), route by route and for all routes together:
// p50 and p99 latency from the intended time, and the error rate of new
// failures — sent requests that failed, less the responses whose status the
// capture recorded too (a 404 the recording also had is not a new failure).
//
// Intervals are percentile bootstrap intervals at 95%: each side's
// latencies (a uniform sample of at most 5,000 per route) are resampled
// with replacement o.Resamples times, and the error count redrawn from a
// binomial with the observed rate; the delta of each pair of resamples
// makes the distribution the interval is read from. A route regresses
// when the low end of an interval is above its bound: the increase is
// beyond the bound with 97.5% confidence. Routes with fewer than
// o.MinRequests on either side are not judged.
func Compare(base, next []string, o CompareOptions) (*CompareReport, error) {
	b, err := readSide(base, o.seed())
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	n, err := readSide(next, o.seed())
	if err != nil {
		return nil, fmt.Errorf("new: %w", err)
	}
	rep := &CompareReport{
		Base: strings.Join(base, " "), New: strings.Join(next, " "),
		Resamples: o.resamples(), Confidence: 0.95, Seed: o.seed(),
		Bounds: Bounds{
			MaxP50IncreasePct: max(0, o.MaxP50Increase*100), MaxP99IncreasePct: max(0, o.MaxP99Increase*100),
			MaxErrorRateIncreasePP: max(0, o.MaxErrorRateIncrease*100), MinRequests: o.minRequests(),
		},
	}
	names := map[string]int64{}
	for k, v := range b.routes {
		names[k] += v.sent
	}
	for k, v := range n.routes {
		names[k] += v.sent
	}
	order := slices.SortedFunc(maps.Keys(names), func(x, y string) int {
		return cmp.Or(cmp.Compare(names[y], names[x]), cmp.Compare(x, y))
	})
	if len(order) > compareRoutes {
		rep.LeftOut = len(order) - compareRoutes
		order = order[:compareRoutes]
	}
	rep.Overall = compareRoute(AllRoutes, &b.all, &n.all, &o)
	for _, name := range order {
		d := compareRoute(name, b.routes[name], n.routes[name], &o)
		if d.Status == DeltaRegression {
			rep.Regressions++
		}
		rep.Routes = append(rep.Routes, d)
	}
	if rep.Overall.Status == DeltaRegression {
		rep.Regressions++
	}
	return rep, nil
}

// compareRoute compares one route; a nil side has no requests.
func compareRoute(name string, b, n *sideRoute, o *CompareOptions) RouteDelta {
	d := RouteDelta{Route: name}
	if b == nil {
		b = &sideRoute{}
	}
	if n == nil {
		n = &sideRoute{}
	}
	d.BaseSent, d.NewSent, d.BaseAsRecorded, d.NewAsRecorded = b.sent, n.sent, b.asRecorded, n.asRecorded
	slices.Sort(b.lat)
	slices.Sort(n.lat)
	d.BaseP50, d.BaseP99 = round3(rank(b.lat, 0.5)), round3(rank(b.lat, 0.99))
	d.NewP50, d.NewP99 = round3(rank(n.lat, 0.5)), round3(rank(n.lat, 0.99))
	d.BaseErrPct, d.NewErrPct = round3(100*ratio(b.failed, b.sent)), round3(100*ratio(n.failed, n.sent))
	d.ErrPP = round3(d.NewErrPct - d.BaseErrPct)
	d.P50Pct, d.P99Pct = pct(d.BaseP50, d.NewP50), pct(d.BaseP99, d.NewP99)
	switch {
	case b.sent == 0:
		d.Status = DeltaNewRoute
		return d
	case n.sent == 0:
		d.Status = DeltaGone
		return d
	case b.sent < o.minRequests() || n.sent < o.minRequests():
		d.Status = DeltaTooFew
		return d
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	rng := rand.New(rand.NewPCG(o.seed(), h.Sum64()))
	boot := bootstrap(b, n, o.resamples(), rng)
	d.P50CI, d.P99CI, d.ErrCI = boot.p50, boot.p99, boot.err
	d.Status = DeltaOK
	if o.MaxP50Increase > 0 && d.P50CI[0] > o.MaxP50Increase*100 {
		d.Regressed = append(d.Regressed, "p50")
	}
	if o.MaxP99Increase > 0 && d.P99CI[0] > o.MaxP99Increase*100 {
		d.Regressed = append(d.Regressed, "p99")
	}
	if o.MaxErrorRateIncrease > 0 && d.ErrCI[0] > o.MaxErrorRateIncrease*100 {
		d.Regressed = append(d.Regressed, "error rate")
	}
	if len(d.Regressed) > 0 {
		d.Status = DeltaRegression
	}
	return d
}

// rank returns quantile q of sorted by the nearest rank, 0 when empty.
func rank(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[rankIndex(len(sorted), q)]
}

func rankIndex(n int, q float64) int {
	return min(n-1, max(0, int(math.Ceil(q*float64(n)))-1))
}

// pct is the relative change from base to next, in percent.
func pct(base, next float64) float64 {
	if base <= 0 {
		return 0
	}
	return round3(100 * (next - base) / base)
}

type intervals struct{ p50, p99, err [2]float64 }

// bootstrap returns the 95% percentile intervals of the p50 and p99 deltas
// (percent) and the error-rate delta (points) over resamples pairs.
func bootstrap(b, n *sideRoute, resamples int, rng *rand.Rand) intervals {
	d50 := make([]float64, resamples)
	d99 := make([]float64, resamples)
	derr := make([]float64, resamples)
	cb, cn := make([]int32, len(b.lat)), make([]int32, len(n.lat))
	pb, pn := ratio(b.failed, b.sent), ratio(n.failed, n.sent)
	for i := range resamples {
		b50, b99 := resampleQuantiles(b.lat, cb, rng)
		n50, n99 := resampleQuantiles(n.lat, cn, rng)
		d50[i], d99[i] = relPct(b50, n50), relPct(b99, n99)
		derr[i] = 100 * (binomial(n.sent, pn, rng)/float64(n.sent) - binomial(b.sent, pb, rng)/float64(b.sent))
	}
	return intervals{ci(d50), ci(d99), ci(derr)}
}

func relPct(base, next float64) float64 {
	if base <= 0 {
		return 0
	}
	return 100 * (next - base) / base
}

// ci returns the 2.5th and 97.5th percentiles of v, rounded to thousandths.
func ci(v []float64) [2]float64 {
	slices.Sort(v)
	return [2]float64{round3(rank(v, 0.025)), round3(rank(v, 0.975))}
}

// resampleQuantiles draws len(sorted) values of sorted with replacement and
// returns the resample's p50 and p99 (nearest rank), in O(n): it counts how
// often each index is drawn and walks the counts, so the resample is never
// sorted. counts is scratch of len(sorted).
func resampleQuantiles(sorted []float64, counts []int32, rng *rand.Rand) (p50, p99 float64) {
	n := len(sorted)
	clear(counts)
	for range n {
		counts[rng.IntN(n)]++
	}
	k50, k99 := rankIndex(n, 0.5), rankIndex(n, 0.99)
	seen := 0
	got50 := false
	for i, c := range counts {
		seen += int(c)
		if !got50 && seen > k50 {
			p50, got50 = sorted[i], true
		}
		if seen > k99 {
			return p50, sorted[i]
		}
	}
	return p50, sorted[n-1]
}

// binomial draws a Binomial(n, p) count: exactly up to 5,000 trials, by
// the normal approximation (rounded, clamped to [0, n]) beyond.
func binomial(n int64, p float64, rng *rand.Rand) float64 {
	if p <= 0 || p >= 1 {
		return p * float64(n)
	}
	if n <= compareSamples {
		var k int64
		for range n {
			if rng.Float64() < p {
				k++
			}
		}
		return float64(k)
	}
	mean, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
	return min(float64(n), max(0, math.Round(mean+sd*rng.NormFloat64())))
}

// WriteText writes the regression table.
func (c *CompareReport) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "surge report compare\n  base  %s\n  new   %s\n", c.Base, c.New)
	fmt.Fprintf(&b, "  bootstrap %d resamples, %.0f%% intervals, seed %d; bounds: %s\n\n", c.Resamples, 100*c.Confidence, c.Seed, c.Bounds)
	fmt.Fprintf(&b, "  %-10s %15s %32s %32s %30s  %s\n", "status", "sent base/new", "p50 ms base→new Δ% [CI]", "p99 ms base→new Δ% [CI]", "new err % base→new Δpp [CI]", "route")
	for _, d := range append([]RouteDelta{c.Overall}, c.Routes...) {
		status := d.Status
		if len(d.Regressed) > 0 {
			status = "REGRESSED " + strings.Join(d.Regressed, ",")
		}
		fmt.Fprintf(&b, "  %-10s %15s %32s %32s %30s  %s\n", status, count(d.BaseSent)+"/"+count(d.NewSent),
			deltaCell(d.BaseP50, d.NewP50, d.P50Pct, d.P50CI, d), deltaCell(d.BaseP99, d.NewP99, d.P99Pct, d.P99CI, d),
			deltaCell(d.BaseErrPct, d.NewErrPct, d.ErrPP, d.ErrCI, d), d.Route)
	}
	if c.LeftOut > 0 {
		fmt.Fprintf(&b, "  (%d more routes left out)\n", c.LeftOut)
	}
	if c.Regressions > 0 {
		fmt.Fprintf(&b, "\nREGRESSION: %d of %d rows beyond the bounds\n", c.Regressions, len(c.Routes)+1)
	} else {
		b.WriteString("\nno regression beyond the bounds\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func deltaCell(base, next, delta float64, ci [2]float64, d RouteDelta) string {
	s := fmt.Sprintf("%s→%s %+.1f", millis(base), millis(next), delta)
	if d.Status == DeltaOK || d.Status == DeltaRegression {
		s += fmt.Sprintf(" [%+.1f,%+.1f]", ci[0], ci[1])
	}
	return s
}

// String lists the bounds: "p99 +10%, error rate +0.5pp, min 30 requests".
func (b Bounds) String() string {
	var parts []string
	if b.MaxP50IncreasePct > 0 {
		parts = append(parts, "p50 +"+strconv.FormatFloat(b.MaxP50IncreasePct, 'g', -1, 64)+"%")
	}
	if b.MaxP99IncreasePct > 0 {
		parts = append(parts, "p99 +"+strconv.FormatFloat(b.MaxP99IncreasePct, 'g', -1, 64)+"%")
	}
	if b.MaxErrorRateIncreasePP > 0 {
		parts = append(parts, "error rate +"+strconv.FormatFloat(b.MaxErrorRateIncreasePP, 'g', -1, 64)+"pp")
	}
	if len(parts) == 0 {
		parts = append(parts, "none")
	}
	return strings.Join(parts, ", ") + fmt.Sprintf(", min %d requests", b.MinRequests)
}

// ParsePercent parses a bound like "10%" as a fraction (0.1); with pp
// ("0.5pp") too when points is true. The unit is required, so 10 is never
// mistaken for 1,000%.
func ParsePercent(s string, points bool) (float64, error) {
	t := strings.TrimSpace(s)
	unit := "%"
	switch {
	case points && strings.HasSuffix(t, "pp"):
		unit = "pp"
	case !strings.HasSuffix(t, "%"):
		if points {
			return 0, fmt.Errorf("%q has no unit: write percentage points, e.g. 0.5pp", s)
		}
		return 0, fmt.Errorf("%q has no unit: write a percentage, e.g. 10%%", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, unit)), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a number >= 0 with %s", s, unit)
	}
	return v / 100, nil
}
