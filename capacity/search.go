package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

// Run replays the capture once at a ratio and returns its report. The
// search calls it for every pass of every step, with the same seed, so a
// search is reproducible.
type Run func(ctx context.Context, ratio float64) (*report.RunSummary, error)

// Search is a capacity search. The zero value of each numeric field means
// its default.
//
// The rule: steps go From, From+Step, From+2·Step, … up to Max. A step
// replays the capture at its ratio pass after pass until its p99 (run-wide,
// from the intended time) settles: at least MinPasses passes, and settled
// when the last pass's p99 is within SettleTolerance (relative, or 5 ms) of
// the pass before; at most MaxPasses (then the step is marked unsettled).
// The step's verdict is its last pass's: it holds when every SLO holds.
// After the first step that breaks, the search bisects between the last
// ratio that held (0 when none did) and the first that broke until they are
// Resolution apart. A pass whose generator fell behind (lateness p99 over
// MaxLateness, 5 ms by default, or requests dropped for lateness) stops the
// search at once.
type Search struct {
	SLOs []SLO
	Run  Run
	// From is the first ratio (default 1); Step the ramp's step (default
	// 0.5); Max the highest ratio tried (default 20).
	From, Step, Max float64
	// Resolution is the bisection's final gap (default Step/5).
	Resolution float64
	// MinPasses (default 2) and MaxPasses (default 4) bound a step's
	// passes; SettleTolerance is the relative p99 change that counts as
	// settled (default 0.1).
	MinPasses, MaxPasses int
	SettleTolerance      float64
	// MaxLateness is the generator's lateness p99 above which a pass counts
	// as generator-bound. Zero means the report's rule (GeneratorKeptUp:
	// 5 ms, 20 ms closed). Requests dropped for lateness always count.
	MaxLateness time.Duration
	// Projected is the ratio the owner plans for (0: none): the knee is
	// also given as a share of it.
	Projected float64
	// Progress, when set, is called after every step.
	Progress func(Step)
}

func def(v, d float64) float64 {
	if v <= 0 {
		return d
	}
	return v
}

// Step is the result of one ratio.
type Step struct {
	Ratio float64 `json:"ratio"`
	// Phase is "ramp" or "bisect".
	Phase   string `json:"phase"`
	Passes  int    `json:"passes"`
	Settled bool   `json:"settled"`
	Holds   bool   `json:"holds"`
	// Breaches are the SLOs the step broke, in words.
	Breaches []string `json:"breaches,omitempty"`
	// The last pass's figures.
	Scheduled    int64   `json:"scheduled"`
	Sent         int64   `json:"sent"`
	AchievedRPS  float64 `json:"achieved_rps"`
	P99MS        float64 `json:"p99_ms"`
	ErrorRate    float64 `json:"error_rate"`
	LatenessP99  float64 `json:"lateness_p99_ms"`
	GeneratorBad bool    `json:"generator_behind"`
	// P99ByPass is each pass's run-wide p99, for the settling rule.
	P99ByPass []float64 `json:"p99_by_pass_ms"`
}

// Result is the outcome of a search.
type Result struct {
	SLOs      []string `json:"slos"`
	Projected float64  `json:"projected,omitempty"`
	// Knee is the highest ratio that held (0: none did); Breach the lowest
	// that broke (0: none did, up to Max).
	Knee   float64 `json:"knee"`
	Breach float64 `json:"first_breach"`
	// BreachWhat names what broke at Breach.
	BreachWhat []string `json:"first_breach_slos,omitempty"`
	// GeneratorBound says the search stopped because the generator fell
	// behind at GeneratorAt: the target's knee is above what was measured.
	GeneratorBound bool    `json:"generator_bound"`
	GeneratorAt    float64 `json:"generator_bound_at,omitempty"`
	Steps          []Step  `json:"steps"`
	// Rule is the settling and bisection rule, in words.
	Rule string `json:"rule"`
}

// Do runs the search. The error is Run's, or ctx's; the steps done so far
// are in the Result even then.
func (s *Search) Do(ctx context.Context) (*Result, error) {
	if len(s.SLOs) == 0 {
		return nil, errors.New("capacity: no SLO: give at least one (p(99)<500ms, errors<1%)")
	}
	from, step, maxR := def(s.From, 1), def(s.Step, 0.5), def(s.Max, 20)
	res := &Result{Projected: s.Projected, Rule: s.rule()}
	for _, o := range s.SLOs {
		res.SLOs = append(res.SLOs, o.Text)
	}
	lo, hi := 0.0, 0.0 // last held, first broke
	var hiWhat []string
	try := func(r float64, phase string) (holds, stop bool, err error) {
		st, err := s.step(ctx, r, phase)
		if st != nil {
			res.Steps = append(res.Steps, *st)
			if s.Progress != nil {
				s.Progress(*st)
			}
		}
		if err != nil {
			return false, true, err
		}
		if st.GeneratorBad {
			res.GeneratorBound, res.GeneratorAt = true, r
			return false, true, nil
		}
		if !st.Holds {
			hiWhat = st.Breaches
		}
		return st.Holds, false, nil
	}
	for i := 0; ; i++ {
		r := round(from + float64(i)*step)
		if r > maxR+1e-9 {
			break
		}
		holds, stop, err := try(r, "ramp")
		if err != nil || stop {
			res.Knee = lo
			return res, err
		}
		if !holds {
			hi = r
			break
		}
		lo = r
	}
	res.Knee = lo
	if hi == 0 { // held up to Max
		return res, nil
	}
	resolution := def(s.Resolution, step/5)
	breachWhat := hiWhat
	for hi-lo > resolution+1e-9 {
		mid := round((lo + hi) / 2)
		if mid <= lo || mid >= hi {
			break
		}
		holds, stop, err := try(mid, "bisect")
		if err != nil {
			res.Knee, res.Breach, res.BreachWhat = lo, hi, breachWhat
			return res, err
		}
		if stop {
			break
		}
		if holds {
			lo = mid
		} else {
			hi, breachWhat = mid, hiWhat
		}
	}
	res.Knee, res.Breach, res.BreachWhat = lo, hi, breachWhat
	return res, nil
}

// round keeps ratios to 1/1000, so they print as given.
func round(r float64) float64 { return math.Round(r*1000) / 1000 }

// step runs the passes of one ratio.
func (s *Search) step(ctx context.Context, r float64, phase string) (*Step, error) {
	minP, maxP := s.MinPasses, s.MaxPasses
	if minP <= 0 {
		minP = 2
	}
	if maxP < minP {
		maxP = max(4, minP)
	}
	tol := def(s.SettleTolerance, 0.1)
	st := &Step{Ratio: r, Phase: phase}
	var last *report.RunSummary
	for st.Passes < maxP {
		sum, err := s.Run(ctx, r)
		if err != nil {
			return st, fmt.Errorf("capacity: ratio %s, pass %d: %w", x(r), st.Passes+1, err)
		}
		st.Passes++
		last = sum
		st.P99ByPass = append(st.P99ByPass, sum.Latency.P99)
		if s.behind(sum) {
			break // the generator's limit: nothing more to learn here
		}
		if n := len(st.P99ByPass); n >= minP {
			a, b := st.P99ByPass[n-2], st.P99ByPass[n-1]
			if math.Abs(b-a) <= max(tol*max(a, b), 5) {
				st.Settled = true
				break
			}
		}
	}
	if minP == 1 && st.Passes == 1 {
		st.Settled = true // one pass asked for: nothing to compare
	}
	st.Scheduled, st.Sent, st.AchievedRPS = last.Scheduled, last.Sent, last.AchievedRPS
	st.P99MS, st.LatenessP99 = last.Latency.P99, last.Lateness.P99
	st.ErrorRate = errorRate(last.Sent, last.Sent-last.OK)
	st.GeneratorBad = s.behind(last)
	st.Holds = !st.GeneratorBad
	for _, o := range s.SLOs {
		if ok, why := o.Check(last); !ok {
			st.Holds = false
			st.Breaches = append(st.Breaches, why)
		}
	}
	return st, nil
}

// behind reports whether the generator fell behind in a pass.
func (s *Search) behind(sum *report.RunSummary) bool {
	if sum.Sent == 0 {
		return false
	}
	if s.MaxLateness <= 0 {
		return !sum.GeneratorKeptUp
	}
	return sum.DroppedBy[schema.DroppedDeadline] > 0 || sum.Lateness.P99 > float64(s.MaxLateness)/float64(time.Millisecond)
}

// Rule is the search's rule in words, with its settings.
func (s *Search) Rule() string { return s.rule() }

func (s *Search) rule() string {
	minP, maxP := s.MinPasses, s.MaxPasses
	if minP <= 0 {
		minP = 2
	}
	if maxP < minP {
		maxP = max(4, minP)
	}
	return fmt.Sprintf("ramp from %s by %s up to %s; each step replays the capture %d to %d times until its run-wide p99 changes by at most %s%% (or 5 ms) from the pass before, and is judged on its last pass; then bisect between the last ratio that held and the first that broke down to %s; stop at once if the generator falls behind",
		x(def(s.From, 1)), x(def(s.Step, 0.5)), x(def(s.Max, 20)), minP, maxP, report.Ratio(100*def(s.SettleTolerance, 0.1)), x(def(s.Resolution, def(s.Step, 0.5)/5)))
}
