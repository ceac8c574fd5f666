package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/fleet"
	"github.com/surge-replay/surge/report"
)

func newRunCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Start, change and report runs of a fleet of agents (surge agent)",
		Long: `A fleet run is a run spec published to the fleet's control topic; every
agent (surge agent) takes part. Control events change a running run: set
ratio=R, pause, resume, stop; each takes effect --lead after it is published,
at the same point of the schedule on every agent. A run's report merges its
agents' results: the same report as surge replay's, plus a per-agent table.`,
	}
	p := cmd.PersistentFlags()
	p.StringSlice("brokers", nil, "Kafka bootstrap brokers HOST:PORT[,...] (required)")
	p.String("control-topic", fleet.DefaultControlTopic, "the fleet's control topic")
	p.String("results-topic", fleet.DefaultResultsTopic, "the fleet's results topic")
	p.Duration("lead", fleet.DefaultLead, "how long after it is published a control event takes effect")
	for _, name := range []string{"brokers", "control-topic", "results-topic", "lead"} {
		cfg.bind(cmd, "run."+strings.ReplaceAll(name, "-", "_"), name)
	}
	cmd.AddCommand(newRunStartCommand(cfg), newRunSetCommand(cfg), newRunShapeCommand(cfg), newRunReportCommand(cfg))
	for _, op := range []string{fleet.OpPause, fleet.OpResume, fleet.OpStop} {
		cmd.AddCommand(newRunOpCommand(cfg, op))
	}
	return cmd
}

func runTopics(cfg *config) (fleet.Topics, error) {
	t := fleet.Topics{Brokers: cfg.s.Run.Brokers, Control: cfg.s.Run.ControlTopic, Results: cfg.s.Run.ResultsTopic}
	if len(t.Brokers) == 0 {
		return t, &exitError{exitUsage, errors.New("--brokers: required (HOST:PORT[,...])")}
	}
	return t, nil
}

// controlEvent stamps e: issued now, in effect --lead later.
func controlEvent(cfg *config, e fleet.Event) fleet.Event {
	now := time.Now()
	e.Issued, e.At = now, now.Add(cfg.s.Run.Lead)
	if h, err := os.Hostname(); err == nil {
		e.By = h
	}
	return e
}

func newRunStartCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "start --brokers B --from TOPIC --window-from T1 --window-to T2 --target URL [--wait]",
		Short: "Publish a run for the fleet's agents",
		Example: `  surge run start --brokers 127.0.0.1:9092 --from captures --window-from 2026-06-01T20:00:00Z \
    --window-to 2026-06-01T22:00:00Z --ratio 3 --speed 1 --start-at +10s --target http://127.0.0.1:8080 --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Outputs first: a JUnit file that cannot be written must not
			// cost a run.
			junit := cfg.s.Run.Start.JUnit
			if err := checkFileOutputs(cfg.s.Run.Start.Force, map[string]string{cfg.label("run.start.junit"): junit}); err != nil {
				return err
			}
			if junit != "" && !cfg.s.Run.Start.Wait {
				return usageError([]error{fmt.Errorf("%s: needs --wait (the thresholds are evaluated when the run ends)", cfg.label("run.start.junit"))})
			}
			t, err := runTopics(cfg)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			spec, errs := runSpecFrom(ctx, cfg, t.Brokers)
			if len(errs) > 0 {
				return usageError(errs)
			}
			if err := t.Ensure(ctx); err != nil {
				return err
			}
			if _, err := t.State(ctx, spec.Run); err == nil {
				return &exitError{exitUsage, fmt.Errorf("run %s: already started on %s; pick another --run", spec.Run, cfg.s.Run.ControlTopic)}
			}
			e := controlEvent(cfg, fleet.Event{Run: spec.Run, Op: fleet.OpStart, Spec: spec})
			if err := t.Publish(ctx, e); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "surge run: %s published: %s window %s to %s, ratio %g, speed %g, seed %d, starts %s (in %v), target %s\n",
				spec.Run, spec.Capture, spec.WindowFrom.Format(time.RFC3339), spec.WindowTo.Format(time.RFC3339), spec.Ratio, spec.Speed, spec.Seed,
				spec.StartAt.Format(time.RFC3339Nano), time.Until(spec.StartAt).Round(time.Millisecond), spec.Target)
			fmt.Fprintln(cmd.OutOrStdout(), spec.Run)
			if !cfg.s.Run.Start.Wait {
				return nil
			}
			fr, err := t.Wait(ctx, spec.Run, fleet.Overrun+30*time.Second)
			if err != nil {
				if ctx.Err() != nil && cmd.Context().Err() == nil {
					return &exitError{exitSignal, fmt.Errorf("run %s: stopped waiting (the run goes on; surge run report %s)", spec.Run, spec.Run)}
				}
				return err
			}
			if err := writeFleetReport(cmd, cfg.s.Run.Start.JSON, fr); err != nil {
				return err
			}
			if err := writeJUnit(junit, fr.Summary); err != nil {
				return err
			}
			// The same exit codes as surge replay, from the merged verdict
			// (thresholds included: 4 when one failed).
			return runExit(nil, false, fr.Summary)
		},
	}
	f := cmd.Flags()
	f.String("run", "", "run id (default run-YYYYMMDD-HHMMSS)")
	f.String("from", "", "capture topic: TOPIC on --brokers, or kafka://HOST:PORT/TOPIC (required)")
	f.String("window-from", "", "window start: "+windowForms+" (default the capture's start)")
	f.String("window-to", "", "window end, as --window-from; +DURATION counts from the window start (default the capture's end)")
	f.Float64("ratio", 1, "virtual sessions per recorded session")
	f.Float64("speed", 1, "time compression (10 = ten times faster)")
	f.Uint64("seed", 1, "seed of the shaper's decisions")
	f.Duration("spread", 0, "clone start jitter (0: the shaper's default, 10s)")
	f.String("start-at", "+10s", "when the window's start is replayed: +DURATION from now, or RFC 3339")
	f.String("target", "", "base URL requests go to (each agent checks its own allowlist) (required)")
	f.String("mode", "", "timeline (default) or closed")
	f.String("driver", "", "auto (default), lean or http")
	f.String("conns", "", "per-user (default) or shared")
	f.Duration("timeout", 0, "per-request timeout (default 30s)")
	f.Float64("max-rps", 0, "rate cap per agent (0: none)")
	f.String("late", fleet.LateSkip, "requests later than --grace: skip (counted as dropped_deadline) or send")
	f.Duration("grace", 0, "lateness after which --late applies (default 10s)")
	f.Bool("wait", false, "wait until the run ends and print the merged report")
	f.Bool("json", false, "with --wait, print the report as JSON")
	f.StringArray("threshold", nil, "a threshold METRIC{TAGS}:EXPR[,abort_on_fail][,delay_abort_eval=D][,no_data=pass] on the merged results (repeatable; see docs/REPORT.md; no cohort tag); with --wait a failed one exits 4, and abort_on_fail stops the run")
	f.String("junit", "", "with --wait, write the thresholds as JUnit XML to this file (for CI)")
	f.Bool("force", false, "replace an existing --junit file")
	cfg.bindAll(cmd, "run.start")
	return cmd
}

// runSpecFrom builds the run spec from the flags, with every problem. It
// reads the capture topic's time range to resolve the window.
func runSpecFrom(ctx context.Context, cfg *config, brokers []string) (*fleet.RunSpec, []error) {
	var errs []error
	now := time.Now()
	s := &fleet.RunSpec{
		Run: cfg.s.Run.Start.Run, Ratio: cfg.s.Run.Start.Ratio, Speed: cfg.s.Run.Start.Speed,
		Seed: cfg.s.Run.Start.Seed, SpreadNS: int64(cfg.s.Run.Start.Spread), Target: cfg.s.Run.Start.Target,
		Mode: cfg.s.Run.Start.Mode, Driver: cfg.s.Run.Start.Driver, Conns: cfg.s.Run.Start.Conns,
		TimeoutNS: int64(cfg.s.Run.Start.Timeout), MaxRPS: cfg.s.Run.Start.MaxRPS,
		Late: cfg.s.Run.Start.Late, GraceNS: int64(cfg.s.Run.Start.Grace),
	}
	if s.Run == "" {
		s.Run = "run-" + now.UTC().Format("20060102-150405")
	}
	from := cfg.s.Run.Start.From
	switch {
	case from == "":
		errs = append(errs, errors.New("--from: required (the capture topic)"))
	case kafkalog.IsAddr(from):
		s.Capture = from
	default:
		s.Capture = "kafka://" + strings.Join(brokers, ",") + "/" + from
	}
	if s.Capture != "" {
		if err := resolveRunWindow(ctx, s, cfg.s.Run.Start.WindowFrom, cfg.s.Run.Start.WindowTo); err != nil {
			errs = append(errs, err)
		}
	}
	at := cfg.s.Run.Start.StartAt
	if strings.HasPrefix(at, "+") {
		d, err := time.ParseDuration(at[1:])
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("--start-at %q: want +DURATION (+10s) or an RFC 3339 time", at))
		}
		s.StartAt = now.Add(d)
	} else if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		s.StartAt = t
	} else {
		errs = append(errs, fmt.Errorf("--start-at %q: want +DURATION (+10s) or an RFC 3339 time", at))
	}
	if shape, err := runShape(cfg, s); err != nil {
		errs = append(errs, err)
	} else {
		s.Shape = shape
	}
	g, terrs := thresholdsFrom(cfg, cfg.s.Run.Start.Threshold)
	errs = append(errs, terrs...)
	for i := range g.thresholds {
		s.Thresholds = append(s.Thresholds, g.thresholds[i].Flag())
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return s, s.Validate()
}

func newRunSetCommand(cfg *config) *cobra.Command {
	return &cobra.Command{
		Use:     "set RUN key=value...",
		Short:   "Change a running run (ratio=R)",
		Example: "  surge run set --brokers 127.0.0.1:9092 run-1 ratio=5",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := runTopics(cfg)
			if err != nil {
				return err
			}
			e, err := fleet.ParseSet(args[0], args[1:])
			if err != nil {
				return &exitError{exitUsage, err}
			}
			return publishControl(cmd, cfg, t, e)
		},
	}
}

func newRunOpCommand(cfg *config, op string) *cobra.Command {
	return &cobra.Command{
		Use:   op + " RUN",
		Short: map[string]string{fleet.OpPause: "Pause a run (the rest of its schedule moves by the pause)", fleet.OpResume: "Resume a paused run", fleet.OpStop: "Stop a run"}[op],
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := runTopics(cfg)
			if err != nil {
				return err
			}
			return publishControl(cmd, cfg, t, fleet.Event{Run: args[0], Op: op})
		},
	}
}

// publishControl checks e against the run's state (so a refused event is
// an error here, not only in the agents' logs) and publishes it.
func publishControl(cmd *cobra.Command, cfg *config, t fleet.Topics, e fleet.Event) error {
	ctx := cmd.Context()
	st, err := t.State(ctx, e.Run)
	if err != nil {
		return err
	}
	e = controlEvent(cfg, e)
	if _, err := st.Apply(e); err != nil {
		return &exitError{exitUsage, err}
	}
	if err := t.Publish(ctx, e); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "surge run: %s %s published; in effect at %s\n", e.Run, e.Op, e.At.Format(time.RFC3339Nano))
	return nil
}

func newRunReportCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report RUN [--json]",
		Short: "Merge a run's agent results into one report",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := runTopics(cfg)
			if err != nil {
				return err
			}
			fr, _, err := t.Report(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if html := cfg.s.Run.Report.HTML; html != "" {
				// A fleet's merged report keeps the per-second summary only:
				// the page says which charts it cannot draw.
				if err := writeHTMLReport(html, &report.HTMLReport{Summary: fr.Summary, Title: "surge run " + args[0]}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "html report: %s\n", html)
			}
			return writeFleetReport(cmd, cfg.s.Run.Report.JSON, fr)
		},
	}
	cmd.Flags().Bool("json", false, "print the report as JSON")
	cmd.Flags().String("html", "", "also write the merged report as one self-contained HTML page to this file")
	cfg.bindAll(cmd, "run.report")
	return cmd
}

func writeFleetReport(cmd *cobra.Command, asJSON bool, fr *fleet.FleetReport) error {
	if asJSON {
		return fr.WriteJSON(cmd.OutOrStdout())
	}
	return fr.WriteText(cmd.OutOrStdout())
}

// resolveRunWindow sets s's window from --window-from and --window-to in
// the forms surge replay takes (resolveWindow), against the time range of
// s's capture topic.
func resolveRunWindow(ctx context.Context, s *fleet.RunSpec, from, to string) error {
	a, err := kafkalog.ParseAddr(s.Capture)
	if err != nil {
		return fmt.Errorf("--from %s: %w", s.Capture, err)
	}
	first, last, err := kafkaWindow(ctx, a)
	if err != nil {
		return fmt.Errorf("--from %s: %w", s.Capture, err)
	}
	s.WindowFrom, s.WindowTo, err = resolveWindow(from, to, first, last)
	return err
}
