package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/report"
)

func newReportCompareCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "compare BASE NEW [--max-p99-increase 10%] [--max-error-rate-increase 0.5pp]",
		Short: "Compare two runs' results route by route, and fail on a regression",
		Long: `Compare reads the results files (--results) of two replays of the same capture,
BASE (a baseline run) and NEW, and prints a per-route regression table: p50 and
p99 latency from the intended time and the error rate of new failures, each
with its delta and a 95% bootstrap interval (--resamples resamples, --seed;
deterministic). A failure whose status the capture recorded too (a 404 then
and now) is not a new failure. Summary JSONs are refused: they hold no
distributions.

A route (or all routes together) regresses when the low end of a delta's
interval is above its bound; then compare exits 4. Bounds: --max-p50-increase,
--max-p99-increase (percent: 10%), --max-error-rate-increase (percentage
points: 0.5pp), or compare.* in the config. Routes with fewer than
--min-requests sent requests on either side are listed but not judged.`,
		Example: `  surge report compare out/baseline/results.parquet out/today/results.parquet --max-p99-increase 10% --max-error-rate-increase 0.5pp
  surge report compare --config configs/daily-baseline.yaml base.parquet new.parquet --json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, errs := compareOptionsFrom(cfg)
			for _, a := range args {
				if isJSONFile(a) {
					errs = append(errs, fmt.Errorf("%s: compare reads results files (replay --results), not summary JSONs: they hold no distributions", a))
				}
			}
			if len(errs) > 0 {
				return usageError(errs)
			}
			rep, err := report.Compare([]string{args[0]}, []string{args[1]}, o)
			if err != nil {
				return err
			}
			if cfg.s.Compare.JSON {
				err = writeJSON(cmd.OutOrStdout(), rep)
			} else {
				err = rep.WriteText(cmd.OutOrStdout())
			}
			if err != nil {
				return err
			}
			if rep.Regressions > 0 {
				return &exitError{exitThresholds, fmt.Errorf("regression: %d of %d rows beyond the bounds", rep.Regressions, len(rep.Routes)+1)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.String("max-p50-increase", "", "fail when a route's p50 rises by more than this (10%)")
	f.String("max-p99-increase", "", "fail when a route's p99 rises by more than this (10%)")
	f.String("max-error-rate-increase", "", "fail when a route's error rate rises by more than this many percentage points (0.5pp)")
	f.Int("min-requests", 30, "the fewest sent requests a route needs on each side to be judged")
	f.Int("resamples", 1000, "bootstrap resamples")
	f.Uint64("seed", 1, "bootstrap seed")
	f.Bool("json", false, "print the comparison as JSON")
	cfg.bindAll(cmd, "compare")
	return cmd
}

// compareOptionsFrom reads the compare options (compare.* keys).
func compareOptionsFrom(cfg *config) (report.CompareOptions, []error) {
	o := report.CompareOptions{MinRequests: cfg.s.Compare.MinRequests, Resamples: cfg.s.Compare.Resamples, Seed: cfg.s.Compare.Seed}
	var errs []error
	for _, b := range []struct {
		key    string
		s      string
		dst    *float64
		points bool
	}{
		{"compare.max_p50_increase", cfg.s.Compare.MaxP50Increase, &o.MaxP50Increase, false},
		{"compare.max_p99_increase", cfg.s.Compare.MaxP99Increase, &o.MaxP99Increase, false},
		{"compare.max_error_rate_increase", cfg.s.Compare.MaxErrorRateIncrease, &o.MaxErrorRateIncrease, true},
	} {
		s := b.s
		if s == "" {
			continue
		}
		x, err := report.ParsePercent(s, b.points)
		if err != nil {
			errs = append(errs, cfg.keyErr(b.key, fmt.Sprintf("%q: %v", s, err)))
			continue
		}
		*b.dst = x
	}
	if o.MinRequests < 0 || o.Resamples < 0 {
		errs = append(errs, errors.New("compare: --min-requests and --resamples must be >= 0"))
	}
	return o, errs
}

// isJSONFile reports whether path names a JSON file (a summary, not results).
func isJSONFile(path string) bool {
	return strings.EqualFold(filepath.Ext(path), ".json")
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
