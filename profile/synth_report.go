package profile

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

// SynthReport is a synthetic capture measured against its target, from
// the events as they were written.
type SynthReport struct {
	Start    time.Time     `json:"start"`    // the first step
	Step     time.Duration `json:"step_ns"`  // the arrival curve's step
	Duration time.Duration `json:"duration"` // new sessions arrive in [Start, Start+Duration)
	Scale    float64       `json:"scale"`
	Seed     uint64        `json:"seed"`
	Sessions int64         `json:"sessions"` // copies written
	Events   int64         `json:"events"`
	// Recorded is how many recorded sessions the capture offered, and
	// Copied how many of them were copied at least once.
	Recorded, Copied int
	// Arrivals are the new sessions per step written; Want the target's
	// curve times the scale, repeated over the duration.
	Arrivals []int64   `json:"arrivals"`
	Want     []float64 `json:"want"`
	// ArrivalMaxErr is the largest |written − wanted| / wanted over the
	// steps that want at least one session (0.03 is 3%), at ArrivalMaxAt;
	// ArrivalMaxAbs is the largest |written − wanted| of any step.
	ArrivalMaxErr float64   `json:"arrival_max_error"`
	ArrivalMaxAt  time.Time `json:"arrival_max_at"`
	ArrivalMaxAbs float64   `json:"arrival_max_abs"`
	// Concurrency is the mean number of live sessions per step written
	// (while new ones arrive), and WantConcurrency the profile's curve
	// times the scale, repeated; ConcurrencyMaxErr is the largest
	// relative difference over steps wanting at least one live session,
	// at ConcurrencyMaxAt, ConcurrencyMeanErr the mean of them. Nil and 0
	// when the target has no concurrency curve.
	Concurrency        []float64 `json:"concurrency,omitempty"`
	WantConcurrency    []float64 `json:"want_concurrency,omitempty"`
	ConcurrencyMaxErr  float64   `json:"concurrency_max_error"`
	ConcurrencyMaxAt   time.Time `json:"concurrency_max_at"`
	ConcurrencyMeanErr float64   `json:"concurrency_mean_error"`
	// Routes and Classes are the mixes, target against written, the
	// largest difference first; the MaxPP fields are that difference in
	// percentage points.
	Routes     []MixDelta `json:"routes"`
	RouteMaxPP float64    `json:"route_max_pp"`
	Classes    []MixDelta `json:"classes"`
	ClassMaxPP float64    `json:"class_max_pp"`
	// LengthKS is the Kolmogorov–Smirnov distance of the written session
	// lengths from the target's, at the target histogram's bins.
	LengthKS float64  `json:"length_ks"`
	Lengths  []Bucket `json:"-"` // the written lengths, ms
}

// MixDelta is one item of a mix: its share in the target and as written
// (0.25 is 25%).
type MixDelta struct {
	Name string  `json:"name"`
	Want float64 `json:"want"`
	Got  float64 `json:"got"`
}

// PP returns the difference in percentage points, written less wanted.
func (d MixDelta) PP() float64 { return 100 * (d.Got - d.Want) }

// measure collects what is written.
type measure struct {
	pool     *pool
	target   *SynthTarget
	pl       *planner
	arrivals []int64
	routes   map[string]int64
	groups   map[[2]string]string
	events   int64
}

func newMeasure(p *pool, t *SynthTarget, pl *planner) *measure {
	return &measure{pool: p, target: t, pl: pl, arrivals: make([]int64, pl.steps),
		routes: map[string]int64{}, groups: map[[2]string]string{}}
}

func (m *measure) observe(e *schema.Exchange, c *copySpec) {
	m.events++
	if !c.started {
		c.started, c.first, c.class = true, e.Time, m.target.class(e)
		if i := int(e.Time.Sub(m.pl.start) / m.pl.step); i >= 0 && i < len(m.arrivals) {
			m.arrivals[i]++
		}
	}
	c.last = e.Time
	key := [2]string{e.Method, e.Path}
	g, ok := m.groups[key]
	if !ok {
		g = m.target.route(report.RouteGroup(e.Method, e.Path))
		if len(m.groups) < 1<<16 {
			m.groups[key] = g
		}
	}
	m.routes[g]++
}

// report compares what was written with the target.
func (m *measure) report(passes []*tilePlan) *SynthReport {
	pl, t := m.pl, m.target
	r := &SynthReport{Start: pl.start, Step: pl.step, Scale: pl.scale, Seed: pl.seed, Events: m.events,
		Arrivals: m.arrivals, Recorded: len(m.pool.sessions)}
	r.Duration = time.Duration(float64(pl.steps-1)*float64(pl.step) + pl.last*float64(pl.step))
	n := len(t.Arrivals)
	r.Want = make([]float64, pl.steps)
	for i := range r.Want {
		r.Want[i] = pl.scale * t.Arrivals[i%n]
		if i == pl.steps-1 {
			r.Want[i] *= pl.last
		}
		d := math.Abs(float64(m.arrivals[i]) - r.Want[i])
		r.ArrivalMaxAbs = max(r.ArrivalMaxAbs, d)
		if r.Want[i] >= 1 && d/r.Want[i] > r.ArrivalMaxErr {
			r.ArrivalMaxErr, r.ArrivalMaxAt = d/r.Want[i], pl.start.Add(time.Duration(i)*pl.step)
		}
	}
	var lengths hist
	classes := map[string]int64{}
	copied := map[string]bool{}
	for _, tp := range passes {
		for id, cs := range tp.copies {
			for _, c := range cs {
				if !c.started {
					continue
				}
				copied[id] = true
				r.Sessions++
				classes[c.class]++
				lengths.add(int64(c.last.Sub(c.first) / time.Millisecond))
			}
		}
	}
	r.Copied = len(copied)
	m.concurrency(r, passes)
	r.Lengths = histBuckets(lengths)
	if len(t.Lengths) > 0 {
		r.LengthKS = KS(t.Lengths, r.Lengths)
	}
	r.Routes, r.RouteMaxPP = deltas(t.Routes, m.routes)
	r.Classes, r.ClassMaxPP = deltas(t.Classes, classes)
	return r
}

// concurrency measures the mean live sessions per step of the copies, on
// the profile's grid of whole seconds, against the target's curve.
func (m *measure) concurrency(r *SynthReport, passes []*tilePlan) {
	pl, t := m.pl, m.target
	if len(t.Concurrency) == 0 || pl.step < time.Second {
		return
	}
	per := int64(pl.step / time.Second) // seconds per step
	sums := make([]float64, pl.steps)
	for _, tp := range passes {
		for _, cs := range tp.copies {
			for _, c := range cs {
				if !c.started {
					continue
				}
				s0 := int64(c.first.Sub(pl.start) / time.Second)
				s1 := int64(c.last.Sub(pl.start) / time.Second)
				for k := max(s0/per, 0); k <= s1/per && k < int64(pl.steps); k++ {
					lo, hi := max(s0, k*per), min(s1, k*per+per-1)
					sums[k] += float64(hi - lo + 1)
				}
			}
		}
	}
	r.Concurrency, r.WantConcurrency = sums, make([]float64, pl.steps)
	n, total := len(t.Concurrency), 0
	var errSum float64
	for k := range sums {
		secs := float64(per)
		if k == pl.steps-1 {
			secs = max(1, math.Floor(pl.last*float64(per)))
		}
		sums[k] /= secs
		w := pl.scale * t.Concurrency[k%n]
		r.WantConcurrency[k] = w
		if w >= 1 {
			e := math.Abs(sums[k]-w) / w
			errSum += e
			total++
			if e > r.ConcurrencyMaxErr && e > 1e-9 {
				r.ConcurrencyMaxErr, r.ConcurrencyMaxAt = e, pl.start.Add(time.Duration(k)*pl.step)
			}
		}
	}
	if total > 0 {
		r.ConcurrencyMeanErr = errSum / float64(total)
	}
}

// deltas compares a wanted mix with counts, the largest difference first.
func deltas(want map[string]float64, got map[string]int64) ([]MixDelta, float64) {
	if len(want) == 0 {
		return nil, 0
	}
	var total int64
	for _, n := range got {
		total += n
	}
	var out []MixDelta
	seen := map[string]bool{}
	for k, w := range want {
		d := MixDelta{Name: k, Want: w}
		if total > 0 {
			d.Got = float64(got[k]) / float64(total)
		}
		out = append(out, d)
		seen[k] = true
	}
	for k, n := range got {
		if !seen[k] {
			out = append(out, MixDelta{Name: k, Got: float64(n) / float64(total)})
		}
	}
	slices.SortFunc(out, func(a, b MixDelta) int {
		if c := cmp.Compare(math.Abs(b.PP()), math.Abs(a.PP())); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out, math.Abs(out[0].PP())
}

// WriteText prints the report: what was written and its error against the
// target.
func (r *SynthReport) WriteText(w io.Writer) error {
	var want float64
	var got int64
	for i := range r.Want {
		want += r.Want[i]
		got += r.Arrivals[i]
	}
	p := &printer{w: w}
	p.f("synthetic capture  %s from %s, scale %s, seed %d\n", r.Duration, r.Start.UTC().Format(time.RFC3339), fmtFloat(r.Scale), r.Seed)
	p.f("  sessions         %d copies of %d recorded sessions (%d recorded, %d never copied), %d events\n",
		r.Sessions, r.Copied, r.Recorded, r.Recorded-r.Copied, r.Events)
	p.f("error against the profile\n")
	at := "every step exact"
	if !r.ArrivalMaxAt.IsZero() {
		at = "at " + r.ArrivalMaxAt.UTC().Format("2006-01-02 15:04")
	}
	p.f("  arrivals/%-6s  max %.2f%% (%s), max %.1f sessions off; total %d of %.0f wanted (%+.3f%%)\n",
		shortStep(r.Step), 100*r.ArrivalMaxErr, at, r.ArrivalMaxAbs, got, want, pct(float64(got), want))
	if len(r.Concurrency) > 0 {
		at := "every step exact"
		if !r.ConcurrencyMaxAt.IsZero() {
			at = "at " + r.ConcurrencyMaxAt.UTC().Format("2006-01-02 15:04")
		}
		p.f("  concurrency      max %.2f%% (%s), mean %.2f%% (live sessions per %s)\n", 100*r.ConcurrencyMaxErr, at, 100*r.ConcurrencyMeanErr, shortStep(r.Step))
	}
	if len(r.Routes) > 0 {
		p.f("  route mix        max %.2f pp (%s: %.2f%% wanted, %.2f%% written)\n", r.RouteMaxPP, r.Routes[0].Name, 100*r.Routes[0].Want, 100*r.Routes[0].Got)
	}
	if len(r.Classes) > 0 {
		p.f("  class mix        max %.2f pp (%s: %.2f%% wanted, %.2f%% written)\n", r.ClassMaxPP, r.Classes[0].Name, 100*r.Classes[0].Want, 100*r.Classes[0].Got)
	}
	if len(r.Lengths) > 0 {
		p.f("  session length   KS %.4f\n", r.LengthKS)
	}
	return p.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func pct(got, want float64) float64 {
	if want == 0 {
		return 0
	}
	return 100 * (got - want) / want
}

func fmtFloat(f float64) string { return fmt.Sprintf("%g", f) }

func shortStep(d time.Duration) string {
	if d == time.Minute {
		return "minute"
	}
	return d.String()
}

// predict returns the report of the copies pl draws, from the recorded
// sessions' summaries alone (no events are read or written): what Synth
// will write, as the tests check against what it wrote.
func predict(p *pool, t *SynthTarget, pl *planner) *SynthReport {
	m := newMeasure(p, t, pl)
	index := make(map[string]*poolSession, len(p.sessions))
	for i := range p.sessions {
		index[p.sessions[i].id] = &p.sessions[i]
	}
	var passes []*tilePlan
	for k := range pl.tiles() {
		tp := pl.tile(k)
		for id, cs := range tp.copies {
			s := index[id]
			for _, c := range cs {
				c.started, c.first, c.last, c.class = true, s.start.Add(c.shift), s.end.Add(c.shift), s.class
				if i := int(c.first.Sub(pl.start) / pl.step); i >= 0 && i < len(m.arrivals) {
					m.arrivals[i]++
				}
				m.events += int64(s.requests)
				for _, rc := range s.routes {
					m.routes[p.routes[rc.route]] += int64(rc.n)
				}
			}
		}
		passes = append(passes, tp)
	}
	return m.report(passes)
}
