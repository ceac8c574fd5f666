package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// runReplay plans and runs a replay and prints its report.
func runReplay(cmd *cobra.Command, o *replayOptions, started func()) error {
	stderr := cmd.ErrOrStderr()
	// Outputs are checked before anything is sent: a summary that cannot be
	// written must not cost a run.
	if err := checkOutputs(o.force, map[string]string{"--results": o.results, "--summary-json": o.summaryJSON, "--junit": o.gate.junit}); err != nil {
		return err
	}
	sh, plan, err := planReplay(cmd.Context(), o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "surge replay: %s -> %s, %s mode\n%s", strings.Join(o.captures, ", "), replay.Redact(o.engine.Target), modeName(o.engine.Mode), plan)
	fmt.Fprint(stderr, captureLossNote(o.captures))
	if o.dryRun {
		if err := replay.CheckTarget(cmd.Context(), o.engine.Target, o.engine.Allow); err != nil {
			return err
		}
		sched, err := planSchedule(sh)
		if err != nil {
			return err
		}
		sched.write(stderr, &o.engine)
		fmt.Fprintln(stderr, "dry run: target allowed; nothing sent")
		return nil
	}
	o.engine.SessionIdle = time.Duration(float64(plan.IdleGap) / plan.Speed)
	info := report.RunInfo{
		Target: replay.Redact(o.engine.Target), Capture: o.captures, Ratio: plan.ratio,
		Speed: plan.Speed, Seed: plan.Seed, Mode: modeName(o.engine.Mode),
	}
	agg := report.NewAggregator(info)
	gate, surge, err := o.gate.newGate(cmd.Context(), o.captures, plan.Plan)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	info.WindowFrom, info.Surge = plan.From, surge.Info()
	startCh := make(chan time.Time, 1)
	var sink eventlog.Sink[schema.Result]
	var sinkErr error
	if o.results != "" {
		if sink, err = eventlog.CreateSink[schema.Result](o.results, eventlog.WriterConfig{Source: "replay", Metadata: info.Metadata(), Replace: o.force}); err != nil {
			return err
		}
	}
	// The run's start is known once the engine starts its clock: the
	// report's series and the results file's metadata count from it.
	o.engine.Started = func(start time.Time) {
		agg.SetStart(start)
		gate.SetStart(start)
		startCh <- start
		if sink != nil {
			info.Start = start
			for k, v := range info.Metadata() {
				sink.SetMetadata(k, v)
			}
		}
	}
	emit := func(r *schema.Result) {
		agg.Add(r)
		gate.Add(r)
		if sink != nil && sinkErr == nil {
			sinkErr = sink.Add(r)
		}
	}

	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	stop, release := signals(cancel)
	defer release()
	done := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		progressLoop(stderr, o.progress, isTerminal(os.Stderr), agg, plan.Duration, done)
		close(progressDone)
	}()
	if started != nil {
		started()
	}
	live := newLiveGate(gate, stop, done)
	go live.watch(startCh, liveGateTick, done)
	st, runErr := replay.Run(ctx, o.engine, sh, live.stop, emit)
	close(done)
	<-progressDone

	if st == nil { // refused before anything was sent
		if sink != nil {
			sink.Abort()
		}
		return runErr
	}
	if sink != nil {
		if sinkErr == nil {
			if reason := abortReasonOf(runErr, live.abortReason()); reason != "" {
				sink.SetMetadata(report.MetaAbort, reason)
			}
			sinkErr = sink.Close()
		} else {
			sink.Abort()
		}
	}
	summary := agg.Summary()
	settle(summary, gate, runErr, live.abortReason())
	summary.TextRoutes = textRoutes(o.routes)
	if err := summary.WriteText(cmd.OutOrStdout()); err != nil {
		return err
	}
	if st.AccountsLeased > 0 {
		fmt.Fprintf(stderr, "accounts: %d leased to virtual users, %d users found the pool exhausted and shared one\n", st.AccountsLeased, st.AccountsExhausted)
	}
	if o.summaryJSON != "" {
		if err := writeAtomic(o.summaryJSON, summary.WriteJSON); err != nil {
			return err
		}
	}
	if err := writeJUnit(o.gate.junit, summary); err != nil {
		return err
	}
	if sinkErr != nil {
		return fmt.Errorf("results %s: %w", o.results, sinkErr)
	}
	return o.gate.exit(runErr, closed(stop), summary)
}

// replayPlan is the shaper's plan with the ratio as a number.
type replayPlan struct {
	shaper.Plan
	ratio float64
}

// planReplay resolves the window against the capture and builds the shaper.
func planReplay(ctx context.Context, o *replayOptions) (*shaper.Shaper, replayPlan, error) {
	first, last, open, err := resolveCapture(ctx, o.captures)
	if err != nil {
		return nil, replayPlan{}, err
	}
	cfg := o.shape
	// A closed window makes the plan's duration known before the run.
	if cfg.From, cfg.To, err = resolveWindow(o.window[0], o.window[1], first, last); err != nil {
		return nil, replayPlan{}, &exitError{exitUsage, err}
	}
	sh, err := shaper.New(cfg, open(eventlog.Range{From: cfg.From, To: cfg.To}))
	if err != nil {
		return nil, replayPlan{}, err
	}
	ratio := 1.0
	if c, ok := cfg.Ratio.(shaper.Constant); ok {
		ratio = float64(c)
	}
	return sh, replayPlan{Plan: sh.Plan(), ratio: ratio}, nil
}

// resolveCapture returns the time range of the captures (files, or one
// kafka:// topic) and how to open them for a window.
func resolveCapture(ctx context.Context, captures []string) (first, last time.Time, open func(eventlog.Range) shaper.Opener, err error) {
	if a, ok, err := kafkaCapture(captures); ok {
		if err != nil {
			return first, last, nil, err
		}
		first, last, err = kafkaWindow(ctx, a)
		return first, last, func(r eventlog.Range) shaper.Opener { return openKafkaCapture(ctx, a, r) }, err
	}
	if first, last, err = captureRange(captures); err != nil {
		return first, last, nil, err
	}
	files, err := eventlog.Files(captures, eventlog.Range{})
	if err != nil {
		return first, last, nil, err
	}
	return first, last, func(r eventlog.Range) shaper.Opener { return openCapture(files, r) }, nil
}

func modeName(m string) string {
	if m == "" {
		return replay.Timeline
	}
	return m
}

// writeAtomic writes a file through a temporary file renamed into place.
func writeAtomic(path string, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(eventlog.FilePerm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
