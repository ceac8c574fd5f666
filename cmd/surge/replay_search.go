package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/capacity"
	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/shaper"
)

func addSearchFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Bool("search-capacity", false, "search the highest ratio that meets every --slo (docs/REPORT.md, \"Capacity search\")")
	f.StringArray("slo", nil, "an objective of --search-capacity: p(99)<500ms (per route group; p(50), p(90), p(99.9) too) or errors<1% (repeatable)")
	f.Float64("projected", 0, "the ratio you plan for: the knee is also given as a share of it")
	f.Float64("search-from", 1, "--search-capacity: the first ratio")
	f.Float64("search-step", 0.5, "--search-capacity: the ramp's step")
	f.Float64("search-max", 20, "--search-capacity: the highest ratio tried")
	f.Float64("search-resolution", 0, "--search-capacity: stop bisecting when the held and the broken ratios are this close (0: step/5)")
	f.Duration("search-max-lateness", 0, "--search-capacity: generator lateness p99 above which the search stops as generator-bound (0: the report's 5 ms)")
	f.Int("search-passes", 2, "--search-capacity: passes at least per step (the p99 of the last two must agree within 10% or 5 ms; at most max(4, this))")
}

// searchFrom reads the capacity search's options; nil when none is asked.
func searchFrom(cfg *config, errs []error) (*capacity.Search, []error) {
	r := &cfg.s.Replay
	var slos []capacity.SLO
	for _, t := range r.SLO {
		o, err := capacity.ParseSLO(t)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", cfg.label("replay.slo"), err))
			continue
		}
		slos = append(slos, o)
	}
	if !r.SearchCapacity {
		if len(slos) > 0 {
			errs = append(errs, fmt.Errorf("%s without --search-capacity: SLOs are the search's objectives (thresholds are --threshold)", cfg.label("replay.slo")))
		}
		return nil, errs
	}
	s := &capacity.Search{
		From: r.SearchFrom, Step: r.SearchStep,
		Max: r.SearchMax, Resolution: r.SearchResolution,
		MinPasses: r.SearchPasses, Projected: r.Projected,
		MaxLateness: r.SearchMaxLateness, SLOs: slos,
	}
	if len(r.SLO) == 0 {
		errs = append(errs, errors.New("replay: --search-capacity needs at least one --slo, e.g. --slo 'p(99)<500ms' --slo 'errors<1%'"))
	}
	if s.From <= 0 || s.Step <= 0 || s.Max < s.From || s.Resolution < 0 || s.MinPasses < 1 || s.Projected < 0 {
		errs = append(errs, fmt.Errorf("replay: capacity search: want --search-from > 0, --search-step > 0, --search-max >= --search-from, --search-resolution >= 0, --search-passes >= 1, --projected >= 0 (got %g, %g, %g, %g, %d, %g)",
			s.From, s.Step, s.Max, s.Resolution, s.MinPasses, s.Projected))
	}
	return s, errs
}

// runSearch runs a capacity search: each pass is a replay of the window at
// the step's ratio, with the run's seed, reported on stderr as it goes; the
// answer goes to stdout, --summary-json (the search's JSON) and --html.
func runSearch(cmd *cobra.Command, o *replayOptions) error {
	stderr := cmd.ErrOrStderr()
	if err := checkFileOutputs(o.force, map[string]string{"--summary-json": o.summaryJSON, "--html": o.html}); err != nil {
		return err
	}
	if o.results != "" || o.web != "" {
		return &exitError{exitUsage, errors.New("replay: --search-capacity writes no --results and serves no --web (each pass is a run of its own)")}
	}
	if o.dryRun { // the plan of one pass, and the search's rule
		fmt.Fprintf(stderr, "capacity search: %d SLOs; rule: %s\n", len(o.search.SLOs), o.search.Rule())
		pass := *o
		pass.search = nil
		return runReplay(cmd, &pass, nil)
	}
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	stop, release := signals(cancel)
	defer release()
	// Clone start jitter longer than a tenth of a pass would start the
	// clones late and under-load every step (a 10 s default spread on a
	// 3 s pass puts most clones after it): each step's jitter is capped.
	_, plan0, err := planReplay(ctx, o, nil, nil)
	if err != nil {
		return err
	}
	spread := o.shape.Spread
	if eff, capped := cappedSpread(plan0.Spread, passLength(plan0.Plan)); capped {
		spread = eff
		fmt.Fprintf(stderr, "capacity search: clone start jitter %v capped to %v, a tenth of a %v pass, so that every step loads its pass at its ratio\n",
			plan0.Spread, eff, passLength(plan0.Plan))
	}
	s := *o.search
	pass := 0
	s.Run = func(ctx context.Context, ratio float64) (*report.RunSummary, error) {
		step := *o
		step.shape.Spread = spread
		step.shape.Ratio = shaper.Constant(ratio)
		step.settings.Ratio = nil // the step's ratio is the default class's (shape: classes keep theirs)
		sh, plan, err := planReplay(ctx, &step, nil, nil)
		if err != nil {
			return nil, err
		}
		step.engine.SessionIdle = plan.IdleGap
		if plan.Speed > 0 {
			step.engine.SessionIdle = time.Duration(float64(plan.IdleGap) / plan.Speed)
		}
		agg := report.NewAggregator(report.RunInfo{Target: replay.Redact(step.engine.Target), Capture: step.captures,
			Ratio: ratio, Speed: plan.Speed, Seed: plan.Seed, Mode: modeName(step.engine.Mode)})
		step.engine.Started = agg.SetStart
		if step.engine.WebSocket, err = step.wsEngine(plan); err != nil {
			return nil, err
		}
		pass++
		_, err = replay.Run(ctx, step.engine, sh, stop, agg.Add)
		if closed(stop) {
			return nil, fmt.Errorf("stopped (interrupt)")
		}
		if err != nil && !errors.Is(err, replay.ErrStopped) {
			return nil, err
		}
		sum := agg.Summary()
		fmt.Fprintf(stderr, "  pass %d at %sx: sent %s, p99 %s ms, errors %s, lateness p99 %s ms\n",
			pass, report.Ratio(ratio), report.Count(sum.Sent), report.Fig(sum.Latency.P99), report.Count(sum.Sent-sum.OK), report.Fig(sum.Lateness.P99))
		return sum, nil
	}
	s.Progress = func(st capacity.Step) {
		verdict := "holds"
		switch {
		case st.GeneratorBad:
			verdict = "GENERATOR BEHIND: stopping"
		case !st.Holds:
			verdict = fmt.Sprintf("breach: %v", st.Breaches)
		}
		fmt.Fprintf(stderr, "step %sx (%s): %s\n", report.Ratio(st.Ratio), st.Phase, verdict)
	}
	fmt.Fprintf(stderr, "surge replay --search-capacity: %s -> %s\n", o.captures, replay.Redact(o.engine.Target))
	res, err := s.Do(ctx)
	if res != nil {
		if werr := res.WriteText(cmd.OutOrStdout()); werr != nil {
			return werr
		}
		if o.summaryJSON != "" {
			if werr := writeAtomic(o.summaryJSON, res.WriteJSON); werr != nil {
				return werr
			}
		}
		if o.html != "" {
			if werr := writeAtomic(o.html, res.WriteHTML); werr != nil {
				return fmt.Errorf("--html %s: %w", o.html, werr)
			}
			fmt.Fprintf(stderr, "html report: %s\n", o.html)
		}
	}
	if err != nil {
		return err
	}
	if res.GeneratorBound {
		return &exitError{exitBehind, errors.New("capacity search: the generator fell behind; the target's knee was not reached")}
	}
	return nil
}

// maxSpreadShare is the largest clone start jitter, as a share of one pass
// over the window, that keeps a run's load even: clone k of a session starts
// up to the spread late, so with a longer one the first spread of the pass
// runs below its ratio and the schedule over-runs its end by as much.
const maxSpreadShare = 10

// passLength is the schedule time of one pass over the plan's window.
func passLength(p shaper.Plan) time.Duration {
	if p.Speed <= 0 {
		return p.Window()
	}
	return time.Duration(float64(p.Window()) / p.Speed)
}

// cappedSpread returns the clone start jitter to use on passes of the
// given length: spread, or a tenth of the pass when spread is longer
// (capped true). No jitter (0) stays none.
func cappedSpread(spread, pass time.Duration) (time.Duration, bool) {
	limit := pass / maxSpreadShare
	if spread <= 0 || pass <= 0 || spread <= limit {
		return spread, false
	}
	return max(limit, time.Millisecond), true
}

// spreadNote warns, for a replay with clones (ratio above 1), when the
// clone start jitter is longer than a tenth of a pass; "" otherwise.
func spreadNote(p shaper.Plan, ratio float64) string {
	pass := passLength(p)
	eff, capped := cappedSpread(p.Spread, pass)
	if !capped || ratio <= 1 {
		return ""
	}
	return fmt.Sprintf("note: --spread %v is %.0f%% of the %v a pass takes: clone sessions start up to %v late, so the pass's first %v runs below ratio %sx and the schedule over-runs by as much; a --spread of at most %v keeps the load even\n",
		p.Spread, 100*float64(p.Spread)/float64(pass), pass, p.Spread, min(p.Spread, pass), report.Ratio(ratio), eff)
}
