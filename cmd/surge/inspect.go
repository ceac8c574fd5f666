package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/report"
)

func newInspectCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inspect PATH... [--json]",
		Short: "Summarize an event log: events, sessions, time range, rate, routes, import problems",
		Long: `Inspect reads event files (a .parquet file or a hive-layout directory) and
prints events, sessions, users, time range and duration, requests per minute
(peak and mean, with a per-minute sparkline), status mix, top routes, and the
problems the import recorded.

PATH kafka://HOST:PORT/TOPIC summarizes a topic from its offsets and the first
and last event of each partition: events, time range, per-partition offsets
(JSON: address, topic, events, first, last, duration_s, partitions).

--json prints a stable object (fields are only ever added): paths, files,
kind, sources, events, sessions, users, exact, first, last (RFC 3339),
duration_s, peak_rpm, peak_minute, mean_rpm, status, top_routes
[{route,count,share}], per_minute, imports.`,
		Example: `  surge inspect capture.parquet
  surge inspect final/ --json | jq .peak_rpm
  surge inspect final/ --from 2026-11-21T19:55:00Z --to 2026-11-21T20:00:00Z
  surge inspect final/ --from 19:55 --to +5m
  surge inspect kafka://127.0.0.1:9092/captures`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r eventlog.Range
			if _, ok, err := kafkaCapture(args); ok {
				if err != nil {
					return &exitError{2, fmt.Errorf("inspect: %w", err)}
				}
				if cfg.s.Inspect.From != "" || cfg.s.Inspect.To != "" {
					return &exitError{2, errors.New("inspect: --from and --to apply to files; a topic is summarized whole")}
				}
				ks, err := summarizeKafka(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if cfg.s.Inspect.JSON {
					return ks.writeJSON(cmd.OutOrStdout())
				}
				return ks.writeText(cmd.OutOrStdout())
			}
			if from, to := cfg.s.Inspect.From, cfg.s.Inspect.To; from != "" || to != "" {
				first, last, err := captureRange(args)
				if err != nil {
					return err
				}
				if r.From, r.To, err = resolveWindow(from, to, first, last); err != nil {
					return &exitError{exitUsage, fmt.Errorf("inspect: %w", err)}
				}
			}
			s, err := report.Summarize(args, r)
			if err != nil {
				return err
			}
			if cfg.s.Inspect.JSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			return s.WriteText(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.Bool("json", false, "print the summary as JSON")
	f.String("from", "", "only events at or after this time: RFC 3339, a clock time (19:55) or an offset from the capture start (10m)")
	f.String("to", "", "only events before this time (same forms; +5m: from --from)")
	cfg.bindAll(cmd, "inspect")
	return cmd
}
