package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/surge-replay/surge/schema"
)

// Gate evaluates thresholds on a run's results and splits them into cohorts
// at a surge time. Feed it every result (Add) beside the Aggregator;
// Evaluate says how each threshold stands, live or at the end, and Cohorts
// returns the cohort split. Memory: three packed histograms per distinct
// metric filter, plus the cohorts' session sets.
//
// Add, Evaluate and Cohorts are safe for concurrent use.
//
//	g, err := report.NewGate(thresholds, &surge)
//	for r := range results { agg.Add(r); g.Add(r) }
//	s := agg.Summary(); s.Thresholds = g.Evaluate(true); s.Cohorts = g.Cohorts(); s.Settle()
type Gate struct {
	mu      sync.Mutex
	ths     []Threshold
	filters []*filterAgg // filters[i] is the aggregate of ths[i]'s tags (shared)
	cohorts *cohorts     // nil without a surge time
	start   time.Time

	any                   bool
	first, last, lastSend time.Time
}

// filterAgg aggregates the results that match a set of tags.
type filterAgg struct {
	tags []Tag
	tally
	newErrs        int64
	lat, svc, late trend
}

// trend is a distribution with its exact sum, minimum and maximum.
type trend struct {
	sparse
	n        int64
	sum, min int64 // ns
	maxNS    int64
}

func (t *trend) record(ns int64) {
	t.sparse.record(ns, runDigits)
	if t.n == 0 || ns < t.min {
		t.min = ns
	}
	t.maxNS = max(t.maxNS, ns)
	t.n++
	t.sum += ns
}

// NewGate returns a Gate for ths. surge, when not nil, enables the cohort
// split and the cohort tag; a threshold with a cohort tag and no surge is an
// error.
func NewGate(ths []Threshold, surge *Surge) (*Gate, error) {
	g := &Gate{ths: ths}
	if surge != nil {
		g.cohorts = newCohorts(*surge)
	}
	byKey := map[string]*filterAgg{}
	for i := range ths {
		t := &ths[i]
		for _, tag := range t.Tags {
			if tag.Name == "cohort" && surge == nil {
				return nil, fmt.Errorf("threshold %s: the cohort tag needs a surge time (report.surge_at, --surge-at) and none was given or detected", t)
			}
		}
		k := (&Threshold{Tags: t.Tags}).Key()
		f, ok := byKey[k]
		if !ok {
			f = &filterAgg{tags: t.Tags}
			byKey[k] = f
		}
		g.filters = append(g.filters, f)
	}
	return g, nil
}

// SetStart sets the run's start: the surge's offset counts from it. Call it
// before the first Add.
func (g *Gate) SetStart(t time.Time) {
	g.mu.Lock()
	g.start = t
	if g.cohorts != nil {
		g.cohorts.setStart(t)
	}
	g.mu.Unlock()
}

// Add folds one result in. It does not keep r.
func (g *Gate) Add(r *schema.Result) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.any || r.Intended.Before(g.first) {
		g.first = r.Intended
	}
	if !g.any || r.Intended.After(g.last) {
		g.last = r.Intended
	}
	g.any = true
	dropped := schema.IsDropped(r.Error)
	if !dropped {
		if s := sendTime(r); s.After(g.lastSend) {
			g.lastSend = s
		}
	}
	cohort := ""
	if g.cohorts != nil {
		cohort = g.cohorts.classify(r)
		g.cohorts.add(r, cohort)
	}
	class := classify(r)
	seen := make(map[*filterAgg]bool, len(g.filters))
	for _, f := range g.filters {
		if seen[f] || !matches(f.tags, r, cohort) {
			continue
		}
		seen[f] = true
		f.tally.add(dropped, class)
		if dropped {
			continue
		}
		if class != "" && !asRecorded(r) {
			f.newErrs++
		}
		f.lat.record(r.LatencyNS)
		f.svc.record(r.ServiceNS)
		f.late.record(r.LatenessNS)
	}
}

// matches reports whether r, of cohort, has every tag.
func matches(tags []Tag, r *schema.Result, cohort string) bool {
	for _, t := range tags {
		var ok bool
		switch t.Name {
		case "route":
			_, path, _ := strings.Cut(r.Route, " ")
			ok = r.Route == t.Value || path == t.Value
		case "method":
			ok = strings.EqualFold(r.Method, t.Value)
		case "status":
			ok = statusMatches(t.Value, r.Status)
		case "cohort":
			ok = cohort == t.Value
		case "region":
			ok = r.Region == t.Value
		}
		if !ok {
			return false
		}
	}
	return true
}

func statusMatches(v string, status int32) bool {
	switch {
	case v == "none":
		return status == 0
	case strings.HasSuffix(strings.ToLower(v), "xx"):
		return status/100 == int32(v[0]-'0')
	}
	n, _ := strconv.Atoi(v)
	return int32(n) == status
}

// ThresholdResult is how one threshold stands. Value is the aggregate (ms
// for trends, a fraction for rates); NoData means no result matched its
// tags (then Value is 0, and OK is false at the end unless the threshold
// has no_data: pass).
type ThresholdResult struct {
	Metric         string  `json:"metric"`
	Threshold      string  `json:"threshold"`
	Aggregation    string  `json:"aggregation"`
	Value          float64 `json:"value"`
	Bound          float64 `json:"bound"`
	OK             bool    `json:"ok"`
	NoData         bool    `json:"no_data"`
	AbortOnFail    bool    `json:"abort_on_fail"`
	DelayAbortEval float64 `json:"delay_abort_eval_s,omitempty"`
}

// String is one line: "FAIL  errors  rate<0.01  rate=0.052".
func (r ThresholdResult) String() string {
	mark := "ok  "
	if !r.OK {
		mark = "FAIL"
	}
	val := r.Aggregation + "=" + Fig(r.Value)
	if r.NoData {
		val = "no data"
	}
	return fmt.Sprintf("%s  %s  %s  %s", mark, r.Metric, r.Threshold, val)
}

// ThresholdResults are the results of a run's thresholds, in their order.
type ThresholdResults []ThresholdResult

// Failed reports whether any threshold failed.
func (rs ThresholdResults) Failed() bool {
	for _, r := range rs {
		if !r.OK {
			return true
		}
	}
	return false
}

// Evaluate returns how every threshold stands now. final is for the end of
// the run; before it, a threshold without data is reported OK (it cannot
// fail yet).
func (g *Gate) Evaluate(final bool) ThresholdResults {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(ThresholdResults, len(g.ths))
	for i := range g.ths {
		out[i] = g.evaluate(&g.ths[i], g.filters[i], final)
	}
	return out
}

func (g *Gate) evaluate(t *Threshold, f *filterAgg, final bool) ThresholdResult {
	res := ThresholdResult{
		Metric: t.Key(), Threshold: t.Expr(), Aggregation: t.aggName(), Bound: t.Bound,
		AbortOnFail: t.AbortOnFail, DelayAbortEval: t.DelayAbortEval.Seconds(),
	}
	v, ok := g.value(t, f)
	if !ok {
		res.NoData = true
		res.OK = t.NoDataPasses || !final
		return res
	}
	res.Value = round6(v)
	res.OK = compare(v, t.Op, t.Bound)
	return res
}

// value returns t's aggregate over f, or false without data.
func (g *Gate) value(t *Threshold, f *filterAgg) (float64, bool) {
	switch t.Metric {
	case "latency_ms":
		return f.lat.agg(t)
	case "service_ms":
		return f.svc.agg(t)
	case "lateness_ms":
		return f.late.agg(t)
	case "errors", "new_errors":
		n := f.errs
		if t.Metric == "new_errors" {
			n = f.newErrs
		}
		if t.Agg == "count" {
			return float64(n), f.scheduled > 0
		}
		return ratio(n, f.sent), f.sent > 0
	case "dropped":
		if t.Agg == "count" {
			return float64(f.dropped), f.scheduled > 0
		}
		return ratio(f.dropped, f.scheduled), f.scheduled > 0
	case "achieved_rps":
		end := g.last
		if g.lastSend.After(end) {
			end = g.lastSend
		}
		d := end.Sub(g.first).Seconds()
		if f.scheduled == 0 || d <= 0 {
			return 0, false
		}
		return float64(f.sent) / d, true
	}
	return 0, false
}

func ratio(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// agg returns the trend's aggregate for t in ms, or false when it is empty.
func (tr *trend) agg(t *Threshold) (float64, bool) {
	if tr.n == 0 {
		return 0, false
	}
	ms := func(ns int64) float64 { return float64(ns) / 1e6 }
	switch t.Agg {
	case "p":
		return quantileMS(tr.sparse.quantiler(), t.P, tr.sparse.max), true
	case "med":
		return quantileMS(tr.sparse.quantiler(), 50, tr.sparse.max), true
	case "avg":
		return ms(tr.sum) / float64(tr.n), true
	case "min":
		return ms(tr.min), true
	case "max":
		return ms(tr.maxNS), true
	case "count":
		return float64(tr.n), true
	}
	return 0, false
}

func compare(v float64, op string, bound float64) bool {
	switch op {
	case "<":
		return v < bound
	case "<=":
		return v <= bound
	case ">":
		return v > bound
	case ">=":
		return v >= bound
	case "==":
		return math.Abs(v-bound) <= 1e-9*math.Max(1, math.Abs(bound))
	case "!=":
		return math.Abs(v-bound) > 1e-9*math.Max(1, math.Abs(bound))
	}
	return false
}

// AbortCheck returns the first threshold with AbortOnFail that fails at
// elapsed into the run (past its DelayAbortEval, with data), or false.
func (g *Gate) AbortCheck(elapsed time.Duration) (ThresholdResult, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range g.ths {
		t := &g.ths[i]
		if !t.AbortOnFail || elapsed < t.DelayAbortEval {
			continue
		}
		if r := g.evaluate(t, g.filters[i], false); !r.OK && !r.NoData {
			return r, true
		}
	}
	return ThresholdResult{}, false
}

// Cohorts returns the cohort split, or nil without a surge time.
func (g *Gate) Cohorts() *CohortReport {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cohorts == nil {
		return nil
	}
	return g.cohorts.report()
}
