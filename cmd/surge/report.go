package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/report"
)

func newReportCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report RESULTS... [--json]",
		Short: "Recompute a replay's report from its results file alone",
		Long: `Report reads the per-request results a replay wrote (--results) and prints
the same report the run printed: counts, rates, latency from intended time and
from send time, lateness, errors by class, routes, per-second series and the
verdict on the generator. The run's description (target, ratio, speed, seed,
mode) travels in the results file's metadata. --json prints the summary JSON
(see docs/REPORT.md).

--threshold (or the config's thresholds) evaluates thresholds on the results
and --junit writes them as JUnit XML; with thresholds, or with --gate, surge
report exits with the run's exit code (docs/REPORT.md, "Exit codes").
--surge-at splits the report into cohorts (default: the surge the run
recorded); "surge report compare" compares two runs.`,
		Example: `  surge report results.parquet
  surge report results.parquet --json | jq '.latency_ms.p99'
  surge report results.parquet --threshold 'latency_ms{route:/api/search}:p(99)<500' --junit junit.xml
  surge report results.parquet --surge-at 12m
  surge report results.parquet --html report.html`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// "surge report compar a b": a subcommand misspelt reads as files.
			if _, err := os.Stat(args[0]); err != nil {
				if hint := didYouMean(args[0], subcommands(cmd)); hint != "" {
					return &exitError{exitUsage, fmt.Errorf("report: no results file %s%s", args[0], strings.Replace(hint, "mean ", "mean surge report ", 1))}
				}
			}
			o, errs := reportGateFrom(cfg)
			if len(errs) > 0 {
				return usageError(errs)
			}
			// The JUnit file is checked (and its directory made) before the
			// results are read; an existing one is replaced only with --force,
			// as every output.
			if err := checkFileOutputs(cfg.s.Report.Force, map[string]string{cfg.label("report.junit"): o.junit, cfg.label("report.html"): cfg.s.Report.HTML}); err != nil {
				return err
			}
			s, err := report.SummarizeRun(args, report.SummaryOptions{Thresholds: o.thresholds, SurgeAt: o.surgeAt})
			if err != nil {
				return err
			}
			s.TextRoutes = textRoutes(cfg.s.Report.Routes)
			ctls, err := controlsOf(args)
			if err != nil {
				return err
			}
			s.RatioChanges = ratioChanges(s.Ratio, ctls)
			if cfg.s.Report.JSON {
				err = s.WriteJSON(cmd.OutOrStdout())
			} else if err = s.WriteText(cmd.OutOrStdout()); err == nil {
				writeControls(cmd.OutOrStdout(), ctls)
			}
			if err != nil {
				return err
			}
			if html := cfg.s.Report.HTML; html != "" {
				tl, err := report.TimelineOfResults(args, s.Start)
				if err != nil {
					return err
				}
				if err := writeHTMLReport(html, &report.HTMLReport{Summary: s, Series: tl.Series(), Markers: controlMarkers(ctls, s.Start)}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "html report: %s\n", html)
			}
			if err := writeJUnit(o.junit, s); err != nil {
				return err
			}
			if len(o.thresholds) == 0 && !cfg.s.Report.Gate {
				return nil
			}
			return runExit(nil, false, s)
		},
	}
	cmd.Flags().Bool("json", false, "print the summary as JSON")
	cmd.Flags().String("html", "", "also write the report as one self-contained HTML page to this file")
	addRoutesFlag(cmd)
	cmd.Flags().Bool("force", false, "replace an existing --junit or --html file")
	cmd.Flags().Bool("gate", false, "exit with the run's exit code (docs/REPORT.md) even without thresholds")
	addGateFlags(cmd)
	cmd.AddCommand(newReportCompareCommand(cfg))
	cfg.bindAll(cmd, "report")
	return cmd
}
