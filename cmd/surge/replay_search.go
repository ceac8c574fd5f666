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
	s := *o.search
	pass := 0
	s.Run = func(ctx context.Context, ratio float64) (*report.RunSummary, error) {
		step := *o
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
		pass++
		_, err = replay.Run(ctx, step.engine, sh, stop, agg.Add)
		if closed(stop) {
			return nil, fmt.Errorf("stopped (interrupt)")
		}
		if err != nil && !errors.Is(err, replay.ErrStopped) {
			return nil, err
		}
		sum := agg.Summary()
		fmt.Fprintf(stderr, "  pass %d at %gx: sent %d, p99 %.1f ms, errors %d, lateness p99 %.1f ms\n",
			pass, ratio, sum.Sent, sum.Latency.P99, sum.Sent-sum.OK, sum.Lateness.P99)
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
		fmt.Fprintf(stderr, "step %gx (%s): %s\n", st.Ratio, st.Phase, verdict)
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
