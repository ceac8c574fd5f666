package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	if o.search != nil {
		return runSearch(cmd, o)
	}
	stderr := &lockedWriter{w: cmd.ErrOrStderr()}
	defer o.closeAccounts() // replay_accounts.go
	// Outputs are checked before anything is sent: a summary that cannot be
	// written must not cost a run.
	if err := checkOutputs(o.force, o.outputs); err != nil {
		return err
	}
	// Every output but --results (which may be a hive directory) is one file.
	files := maps.Clone(o.outputs)
	maps.DeleteFunc(files, func(_, path string) bool { return path == o.results })
	if err := checkFileOutputs(o.force, files); err != nil {
		return err
	}
	var live *replay.Live
	var controls *shaper.Controls
	// --web's live page controls pause and ratio through the same live
	// schedule as --control and --watch.
	if (o.live.on() || o.web != "") && !o.dryRun {
		controls, _ = shaper.NewControls()
		initial := o.settings
		r := plan0Ratio(o)
		initial.Ratio = &r
		live = replay.NewLive(cmd.Context(), controls, initial, 0)
	}
	sh, plan, err := planReplay(cmd.Context(), o, live, controls)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "surge replay: %s -> %s, %s mode, %s\n%s", strings.Join(o.captures, ", "), replay.Redact(o.engine.Target), modeName(o.engine.Mode), o.engine.Protocol(), plan)
	if o.profile != nil {
		fmt.Fprintf(stderr, "sessions re-timed to the arrival curve of profile %s (%d minutes from %s)\n", o.profile.dir, len(o.profile.target.Arrivals), o.profile.target.Start.Format(time.RFC3339))
	}
	fmt.Fprint(stderr, spreadNote(plan.Plan, plan.ratio))
	loss := captureLoss(o.captures)
	if loss != nil {
		fmt.Fprintf(stderr, "capture loss: %s\n", loss)
	}
	fmt.Fprint(stderr, regionsPlan(&o.engine))
	fmt.Fprint(stderr, mixWarning(o.settings.Regions, o.engine.Regions))
	fmt.Fprint(stderr, poolCheckWarning(o.engine.Pool)) // replay_accounts.go
	if o.dryRun {
		if err := replay.CheckRegions(cmd.Context(), &o.engine); err != nil {
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
	if o.engine.WebSocket, err = o.wsEngine(plan); err != nil {
		return err
	}
	if len(plan.storms) > 0 {
		o.engine.WebSocket.Storms, o.engine.WebSocket.StormSeed = plan.storms, plan.Seed
	}
	info := report.RunInfo{
		Target: replay.Redact(o.engine.Target), Capture: o.captures, Ratio: plan.ratio,
		Speed: plan.Speed, Seed: plan.Seed, Mode: modeName(o.engine.Mode),
		StormPlan:   stormPlan(plan.storms),
		CaptureLoss: loss,
	}
	agg := report.NewAggregator(info)
	tl := o.timeline()
	gate, surge, err := o.gate.newGate(cmd.Context(), o.captures, plan.Plan)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	info.WindowFrom, info.Surge = plan.From, surge.Info()
	startCh := make(chan time.Time, 1)
	var changes func() []report.RatioChange
	if controls != nil {
		changes = func() []report.RatioChange {
			ctls, _ := controls.Since(0)
			return ratioChanges(plan.ratio, ctls)
		}
	}
	web, err := o.startWeb(stderr, agg, tl, plan.ratio, o.engine.SessionIdle, plan.Duration, changes)
	if err != nil {
		return err
	}
	defer web.close()
	if live != nil && web != nil {
		// The surge_ratio gauge follows the live ratio, changed from the
		// page, --control or --watch.
		live.OnChange = func(_ shaper.Control, now shaper.Settings) {
			if now.Ratio != nil {
				web.metrics.SetRatio(*now.Ratio)
			}
		}
	}
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
		if live != nil {
			live.Start(start)
		}
		agg.SetStart(start)
		tl.SetStart(start)
		web.started(start)
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
		tl.Add(r)
		web.observe(r)
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
	lg := newLiveGate(gate, stop, done)
	go lg.watch(startCh, liveGateTick, done)
	web.attach(lg, done)
	web.attachControl(live, o.webToken)
	var sched replay.Schedule = sh
	stopControl := func() {}
	var watched sync.WaitGroup
	if live != nil {
		sched = live
		if stopControl, err = serveControl(&o.live, live, stderr); err != nil {
			return err
		}
		if o.live.watch && o.live.file != "" {
			w := &configWatcher{file: o.live.file, live: live, flags: o.flagClasses(), ratio: plan0Ratio(o), log: stderr}
			w.last = w.initial(o.settings)
			watched.Add(1)
			go func() {
				defer watched.Done()
				if err := w.run(ctx); err != nil {
					fmt.Fprintf(stderr, "surge: %v (the config file is not watched)\n", err)
				}
			}()
		}
	}
	st, runErr := replay.Run(ctx, o.engine, sched, lg.stop, emit)
	close(done)
	<-progressDone
	stopControl()
	cancel()
	watched.Wait()

	if st == nil { // refused before anything was sent
		if sink != nil {
			sink.Abort()
		}
		return runErr
	}
	if sink != nil {
		if sinkErr == nil {
			if reason := abortReasonOf(runErr, lg.abortReason()); reason != "" {
				sink.SetMetadata(report.MetaAbort, reason)
			}
			if controls != nil {
				sink.SetMetadata(MetaControls, controlsJSON(controls))
			}
			sinkErr = sink.Close()
		} else {
			sink.Abort()
		}
	}
	if ws := st.WebSocket; ws != nil {
		agg.SetWebSocket(ws.Lateness(), ws.Staleness(), ws.GaveUp())
	}
	summary := agg.Summary()
	summary.Accounts = o.accountsSummary(st) // replay_accounts.go
	if changes != nil {
		summary.RatioChanges = changes()
	}
	settle(summary, gate, runErr, lg.abortReason())
	summary.TextRoutes = textRoutes(o.routes)
	fmt.Fprint(stderr, dnsLine(st))
	if err := summary.WriteText(cmd.OutOrStdout()); err != nil {
		return err
	}
	// The engine is done with the shaper: what its rules matched over
	// the part of the window replayed (the dry run says it before).
	writeUnmatched(stderr, sh.Unmatched())
	var ctls []shaper.Control
	if controls != nil {
		ctls, _ = controls.Since(0)
		writeControls(cmd.OutOrStdout(), ctls)
	}
	if p := o.engine.Pool; p != nil {
		fmt.Fprintf(stderr, "accounts: pool %s: %d accounts of %d users, index loaded in %v\n", o.accountsSource, p.Accounts(), p.Users(), o.accountsLoad.Round(time.Millisecond))
		poolWarning(stderr, st)
	}
	leasedLine(stderr, st, o.engine.AccountsExhausted) // replay_accounts.go
	if o.summaryJSON != "" {
		if err := writeAtomic(o.summaryJSON, summary.WriteJSON); err != nil {
			return err
		}
	}
	if err := writeJUnit(o.gate.junit, summary); err != nil {
		return err
	}
	if err := o.writeHTML(stderr, summary, tl, ctls); err != nil {
		return err
	}
	web.finish(cmd.Context(), summary)
	if sinkErr != nil {
		return fmt.Errorf("results %s: %w", o.results, sinkErr)
	}
	return o.gate.exit(runErr, closed(stop), summary)
}

// replayPlan is the shaper's plan with the ratio as a number.
type replayPlan struct {
	shaper.Plan
	ratio  float64
	storms []shaper.Storm // the reconnect storms, at their offsets
}

// planReplay resolves the window against the capture and builds the shaper.
// With live, the shaper folds controls as it goes and is gated by live's
// clock (its bounded look-ahead).
func planReplay(ctx context.Context, o *replayOptions, live *replay.Live, controls *shaper.Controls) (*shaper.Shaper, replayPlan, error) {
	first, last, open, err := resolveCapture(ctx, o.captures)
	if err == nil && o.profile != nil {
		// --profile: the capture's sessions re-timed to its arrival curve.
		first, last, open, err = o.profile.resolve(ctx, o.captures, o.shape.Seed)
	}
	if err != nil {
		return nil, replayPlan{}, err
	}
	cfg := o.shape
	if cfg.Resolution, err = captureResolution(o.captures, o.resolution); err != nil {
		return nil, replayPlan{}, err
	}
	if cfg.Resolution > 0 {
		// The last recorded instant stands for the whole of its
		// resolution: its requests are spread over it, so the capture's
		// end is one resolution after it.
		last = last.Add(cfg.Resolution - time.Nanosecond)
	}
	// A closed window makes the plan's duration known before the run.
	if cfg.From, cfg.To, err = resolveWindow(o.window[0], o.window[1], first, last); err != nil {
		return nil, replayPlan{}, &exitError{exitUsage, err}
	}
	ratio := plan0Ratio(o) // the default class's: shape.ratio, else --ratio
	// Curve and exit times are capture times the shaper resolves against
	// the window start.
	cfg.Shape = o.settings
	if cfg.Shape.Shaped() {
		// The config was checked against a stand-in window start; times
		// written as clock times and as offsets may only disagree on
		// their order against the real one.
		if _, err := cfg.Shape.Classes(cfg.From, ratio); err != nil {
			var errs []error
			for _, e := range unjoinAll(err) {
				errs = append(errs, fmt.Errorf("shape.%v (times resolved against the window start %s)", e, cfg.From.UTC().Format(time.RFC3339)))
			}
			return nil, replayPlan{}, usageError(errs)
		}
	}
	if len(o.settings.Sessions) > 0 {
		// The sets of recorded sessions exits send users to: one pass over
		// the window before the run.
		src, err := open(eventlog.Range{From: cfg.From, To: cfg.To})()
		if err != nil {
			return nil, replayPlan{}, err
		}
		if cfg.Sets, err = shaper.CollectSets(o.settings.Sessions, src); err != nil {
			return nil, replayPlan{}, &exitError{exitUsage, fmt.Errorf("shape: %w", err)}
		}
		if err := emptySets(o.settings, cfg.Sets); err != nil {
			return nil, replayPlan{}, &exitError{exitUsage, err}
		}
	}
	if live != nil {
		cfg.Controls, cfg.Gate = controls, live.Gate
	}
	sh, err := shaper.New(cfg, open(eventlog.Range{From: cfg.From, To: cfg.To}))
	if err != nil {
		return nil, replayPlan{}, err
	}
	if live != nil {
		live.Bind(sh)
	}
	end := cfg.To
	if end.IsZero() {
		end = last.Add(time.Nanosecond) // an open window ends after the last event
	}
	storms, err := planStorms(&o.settings, cfg.From, end, sh.Plan().Speed, sh.Plan().Loops)
	if err != nil {
		return nil, replayPlan{}, err
	}
	return sh, replayPlan{Plan: sh.Plan(), ratio: ratio, storms: storms}, nil
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
