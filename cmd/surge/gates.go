package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// gateOptions are the CI gates of a replay: thresholds, a JUnit file and
// the surge time that splits the report into cohorts.
type gateOptions struct {
	thresholds []report.Threshold
	junit      string
	// surgeAt is as given: "" or "auto" (detect), "none" (no cohorts), an
	// RFC 3339 capture time or an offset from the capture's start.
	surgeAt string
	// lenient exits 0 whatever the verdict when no threshold was given,
	// except for an interrupt (surge demo).
	lenient bool
}

// exit returns the exit of a run that ran: runExit, or for a lenient gate
// without thresholds only the engine's own errors.
func (g *gateOptions) exit(err error, interrupted bool, s *report.RunSummary) error {
	if g.lenient && len(g.thresholds) == 0 && !interrupted {
		if err != nil && !errors.Is(err, replay.ErrStopped) {
			return err
		}
		return nil
	}
	return runExit(err, interrupted, s)
}

// addGateFlags adds the gate flags to a replay command.
func addGateFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArray("threshold", nil, "a threshold METRIC{TAGS}:EXPR[,abort_on_fail][,delay_abort_eval=D][,no_data=pass] (repeatable; see docs/REPORT.md)")
	f.String("junit", "", "write the thresholds as JUnit XML to this file (for CI)")
	f.String("surge-at", "", "surge time for the cohort split: RFC 3339 capture time, offset from the capture start, auto (detect; the default) or none")
}

// gateOptionsFrom reads the gate options: thresholds from the config's
// thresholds map and every --threshold, the surge time from --surge-at or
// report.surge_at.
func gateOptionsFrom(cfg *config) (*gateOptions, []error) {
	g, errs := thresholdsFrom(cfg, cfg.s.Replay.Threshold)
	g.junit, g.surgeAt = cfg.s.Replay.JUnit, cfg.s.Replay.SurgeAt
	if g.surgeAt == "" {
		g.surgeAt = cfg.s.Report.SurgeAt
	}
	return g, errs
}

// thresholdsFrom reads the config's thresholds map and the --threshold
// flags (or their key's list).
func thresholdsFrom(cfg *config, flags []string) (*gateOptions, []error) {
	g := &gateOptions{}
	var errs []error
	if m, err := rawThresholds(cfg.file); err != nil {
		errs = append(errs, err)
	} else if len(m) > 0 {
		ths, terrs := report.ParseThresholdMap(m)
		g.thresholds = append(g.thresholds, ths...)
		errs = append(errs, terrs...)
	} else if m := cfg.s.Thresholds; len(m) > 0 {
		ths, terrs := report.ParseThresholdMap(m)
		g.thresholds = append(g.thresholds, ths...)
		errs = append(errs, terrs...)
	}
	for _, s := range flags {
		t, err := report.ParseThresholdFlag(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("--threshold: %w", err))
			continue
		}
		g.thresholds = append(g.thresholds, t)
	}
	return g, errs
}

// surge resolves the surge time against the capture window: the
// schedule's zero is from (capture time) and --speed divides capture time.
// It returns nil when there is none: "none", or nothing detected.
func (g *gateOptions) surge(ctx context.Context, files []string, from, to time.Time, speed float64) (*report.Surge, error) {
	if speed <= 0 {
		speed = 1
	}
	toRun := func(c time.Time) time.Duration { return time.Duration(float64(c.Sub(from)) / speed) }
	switch g.surgeAt {
	case "none":
		return nil, nil
	case "", "auto":
		at, ok, err := detectSurge(ctx, files, from, to)
		if err != nil || !ok {
			return nil, err
		}
		return &report.Surge{Offset: toRun(at), Capture: at, Source: "detected", Rule: report.SurgeRule()}, nil
	}
	at, err := windowBound(g.surgeAt, from, from)
	if err != nil {
		return nil, fmt.Errorf("--surge-at: %w", err)
	}
	if at.Before(from) || !at.Before(to) {
		return nil, fmt.Errorf("--surge-at %s is outside the replayed window %s to %s", g.surgeAt, from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return &report.Surge{Offset: toRun(at), Capture: at, Source: "config"}, nil
}

// timeOnly is the projection of a capture that surge detection reads.
type timeOnly struct {
	Time time.Time `parquet:"time,timestamp(nanosecond:utc),delta"`
}

func (timeOnly) EventKind() schema.Kind  { return schema.KindExchange }
func (t *timeOnly) EventTime() time.Time { return t.Time }

// detectSurge bins the capture's request times in [from, to) by minute and
// applies report.DetectSurge. Intended times are capture times shifted and
// compressed alike (the ratio scales every minute alike), so the rule finds
// the same minute in either.
func detectSurge(ctx context.Context, files []string, from, to time.Time) (time.Time, bool, error) {
	var c report.SurgeCounter
	if a, ok, err := kafkaCapture(files); ok {
		if err == nil {
			err = kafkaTimes(ctx, a, eventlog.Range{From: from, To: to}, c.Add)
		}
		at, found := c.Detect()
		return at, found && err == nil, err
	}
	rd, err := eventlog.Open[timeOnly](files, eventlog.Range{From: from, To: to})
	if err != nil {
		return time.Time{}, false, err
	}
	defer rd.Close()
	for {
		t, err := rd.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return time.Time{}, false, err
		}
		c.Add(t.Time)
	}
	at, ok := c.Detect()
	return at, ok, nil
}

// liveGate evaluates a Gate's abort_on_fail thresholds while a run runs and
// stops the run when one fails.
type liveGate struct {
	gate   *report.Gate
	stop   chan struct{} // the run's stop: closed on an interrupt or an abort
	once   sync.Once
	mu     sync.Mutex
	reason string // why the gate stopped the run; "" when it did not
}

// newLiveGate returns a liveGate whose stop channel also closes when user
// (the interrupt's stop) closes.
func newLiveGate(gate *report.Gate, user <-chan struct{}, done <-chan struct{}) *liveGate {
	l := &liveGate{gate: gate, stop: make(chan struct{})}
	go func() {
		select {
		case <-user:
			l.close()
		case <-done:
		}
	}()
	return l
}

func (l *liveGate) close() { l.once.Do(func() { close(l.stop) }) }

// watch checks the abort thresholds every tick from start until done.
func (l *liveGate) watch(start <-chan time.Time, tick time.Duration, done <-chan struct{}) {
	var t0 time.Time
	select {
	case t0 = <-start:
	case <-done:
		return
	}
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for {
		select {
		case <-done:
			return
		case <-tk.C:
			if r, failed := l.gate.AbortCheck(time.Since(t0)); failed {
				l.mu.Lock()
				l.reason = fmt.Sprintf("threshold %s %s failed (%s): abort_on_fail", r.Metric, r.Threshold, strings.TrimPrefix(r.String(), "FAIL  "+r.Metric+"  "+r.Threshold+"  "))
				l.mu.Unlock()
				l.close()
				return
			}
		}
	}
}

// abortReason returns why the gate stopped the run, or "".
func (l *liveGate) abortReason() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reason
}

// settle puts the gate's results and the run's end into s and settles its
// verdict.
func settle(s *report.RunSummary, gate *report.Gate, runErr error, gateReason string) {
	s.Thresholds = gate.Evaluate(true)
	s.Cohorts = gate.Cohorts()
	if reason := abortReasonOf(runErr, gateReason); reason != "" {
		s.Aborted, s.AbortReason = true, reason
	}
	s.Settle()
}

// writeJUnit writes the summary's JUnit report to path, if set.
func writeJUnit(path string, s *report.RunSummary) error {
	if path == "" {
		return nil
	}
	return writeAtomic(path, s.WriteJUnit)
}

// liveGateTick is how often a run checks its abort_on_fail thresholds.
const liveGateTick = 250 * time.Millisecond

// closed reports whether ch is closed.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// newGate returns the run's Gate: its thresholds and, when there is a surge
// time, its cohorts.
func (g *gateOptions) newGate(ctx context.Context, captures []string, plan shaper.Plan) (*report.Gate, *report.Surge, error) {
	files := captures // a kafka:// capture is read by detectSurge as it is
	if _, ok, _ := kafkaCapture(captures); !ok {
		var err error
		if files, err = eventlog.Files(captures, eventlog.Range{}); err != nil {
			return nil, nil, err
		}
	}
	surge, err := g.surge(ctx, files, plan.From, plan.To, plan.Speed)
	if err != nil {
		return nil, nil, err
	}
	gate, err := report.NewGate(g.thresholds, surge)
	return gate, surge, err
}

// abortReasonOf returns why a run stopped early, "" when it did not.
func abortReasonOf(runErr error, gateReason string) string {
	if !errors.Is(runErr, replay.ErrStopped) {
		return ""
	}
	if gateReason != "" {
		return gateReason
	}
	return strings.TrimPrefix(runErr.Error(), replay.ErrStopped.Error()+": ")
}

// reportGateFrom reads the gate options of surge report: the config's
// thresholds, --threshold, --junit and --surge-at (report.surge_at).
func reportGateFrom(cfg *config) (*gateOptions, []error) {
	g, errs := thresholdsFrom(cfg, cfg.s.Report.Threshold)
	g.junit, g.surgeAt = cfg.s.Report.JUnit, cfg.s.Report.SurgeAt
	return g, errs
}

// usageError joins errs into an error that exits with the usage code.
func usageError(errs []error) error {
	return &exitError{exitUsage, errors.Join(errs...)}
}

// rawThresholds reads the thresholds map of a YAML config file as written:
// viper folds keys to lower case, which would change the routes and
// methods in threshold keys. Nil without a file or a thresholds key.
func rawThresholds(path string) (map[string]any, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	var doc struct {
		Thresholds map[string]any `yaml:"thresholds"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return doc.Thresholds, nil
}

// addRoutesFlag adds --routes, how many routes the text report lists.
func addRoutesFlag(cmd *cobra.Command) {
	cmd.Flags().Int("routes", 15, "routes the text report lists, those with errors first (0: every route)")
}

// textRoutes turns --routes into report.RunSummary.TextRoutes.
func textRoutes(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}
