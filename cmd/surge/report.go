package main

import (
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
(see docs/REPORT.md).`,
		Example: `  surge report results.parquet
  surge report results.parquet --json | jq '.latency_ms.p99'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := report.SummarizeResults(args)
			if err != nil {
				return err
			}
			if cfg.v.GetBool("report.json") {
				return s.WriteJSON(cmd.OutOrStdout())
			}
			return s.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().Bool("json", false, "print the summary as JSON")
	cfg.bindAll(cmd, "report")
	return cmd
}
