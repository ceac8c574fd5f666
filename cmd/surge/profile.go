package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/profile"
)

func newProfileCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Build, show, plot and compare traffic profiles of captures",
		Long: `A traffic profile is what a capture's traffic looked like, in tables a data
engineer can hand on: arrivals of new sessions per second and minute, requests
per minute per route group, concurrency, session lengths and requests per
session, think times per route transition, the route-transition matrix per
session class, region, device and protocol mix over time, status mix per route,
and the notable moments of the arrival and concurrency curves. A profile is a
directory: profile.yaml and one Parquet table each (docs/PROFILES.md).`,
	}
	cmd.AddCommand(newProfileBuildCommand(cfg), newProfileShowCommand(cfg), newProfilePlotCommand(cfg), newProfileCompareCommand(cfg),
		newProfileSynthCommand(cfg))
	return cmd
}

func newProfileBuildCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "build CAPTURE... -o PROFILE/",
		Short: "Build the traffic profile of a capture",
		Long: `Build reads a capture (exchange .parquet files or hive directories) column by
column with Arrow and writes its profile directory: profile.yaml (time range,
totals, resolution, parameters) and Parquet tables DuckDB and pandas read
(docs/PROFILES.md). The directory is written beside PROFILE and renamed into
place; an existing profile there is replaced, anything else is refused.

Sessions are the capture's session ids; one ends after --session-idle without a
request. Session classes: --class CONDITION[,CONDITION]:NAME (first match on a
session's first request wins; conditions as in docs/SHAPING.md on path, host,
method, region, device, protocol); without --class, the device of the first
request. Notable moments: a change of at least --moment-change (fraction)
within --moment-window minutes on the per-minute arrival or concurrency curve.`,
		Example: `  surge profile build final.parquet -o profiles/final
  surge profile build captures/2026-11-21/ -o profiles/sat --class 'path=/live/**:viewer' --class 'path=/api/**:browser'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s := &cfg.s.Profile.Build
			if s.Output == "" {
				return usageError([]error{errors.New("profile build: --output (-o) PROFILE/ is required")})
			}
			for _, a := range args {
				if kafkalog.IsAddr(a) {
					return usageError([]error{fmt.Errorf("profile build: %s: a profile is built from Parquet captures; archive the topic first (surge kafka archive)", a)})
				}
			}
			if err := repeatedCapture("profile build", args); err != nil {
				return usageError([]error{err})
			}
			c := profile.Config{SessionIdle: s.SessionIdle, MaxRoutes: s.MaxRoutes, MomentChange: s.MomentChange, MomentWindow: s.MomentWindow}
			for _, text := range s.Class {
				r, err := profile.ParseClass(text)
				if err != nil {
					return usageError([]error{fmt.Errorf("%s %v", cfg.label("profile.build.class"), err)})
				}
				c.Classes = append(c.Classes, r)
			}
			// Ctrl-C or SIGTERM stops the build and leaves nothing behind.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			p, err := profile.Build(ctx, args, c)
			if err != nil {
				return stoppedBySignal(cmd.Context(), ctx, "profile build", err)
			}
			if err := profile.Write(s.Output, p); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "profile %s: %d requests, %d sessions, %d minutes, %d route groups, %d notable moments\n",
				s.Output, p.Meta.Requests, p.Meta.Sessions, p.Meta.Minutes, len(p.Meta.Routes), len(p.Moments))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringP("output", "o", "", "the profile directory to write (required)")
	f.Duration("session-idle", 0, "end a session after this long without a request (0: 30m)")
	f.Int("max-routes", 0, "route groups (and values of each mix dimension) told apart; the rest count as (other) (0: 200)")
	f.StringArray("class", nil, "a session class, CONDITION[,CONDITION]:NAME (path=/live/**:viewer); repeatable, first match wins")
	f.Float64("moment-change", 0, "least relative change of a notable moment (0.3 = 30%; 0: 0.3)")
	f.Int("moment-window", 0, "longest rise or drop looked for, in minutes (0: 3)")
	cfg.bindAll(cmd, "profile.build")
	return cmd
}

func newProfileShowCommand(cfg *config) *cobra.Command {
	return &cobra.Command{
		Use:     "show PROFILE",
		Short:   "Print a profile: curves as sparklines, mixes, sessions, think times, moments",
		Example: `  surge profile show profiles/final`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := profile.Load(args[0])
			if err != nil {
				return err
			}
			return profile.Show(cmd.OutOrStdout(), p)
		},
	}
}

func newProfilePlotCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plot PROFILE -o DIR/",
		Short: "Draw a profile's curves and distributions as SVG files and one HTML page",
		Long: `Plot writes one SVG per chart (arrivals, requests, concurrency, route mix, mixes
over time, session lengths, requests per session, think times) and index.html,
one self-contained page with all of them and the notable moments, into DIR.
Each file is written to a temporary file and renamed.`,
		Example: `  surge profile plot profiles/final -o plots/`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cfg.s.Profile.Plot.Output
			if out == "" {
				return usageError([]error{errors.New("profile plot: --output (-o) DIR/ is required")})
			}
			p, err := profile.Load(args[0])
			if err != nil {
				return err
			}
			files, err := profile.Plot(out, p)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "plots: %d files in %s (open %s)\n", len(files), out, files[len(files)-1])
			return nil
		},
	}
	cmd.Flags().StringP("output", "o", "", "the directory to write the plots to (required)")
	cfg.bindAll(cmd, "profile.plot")
	return cmd
}

func newProfileCompareCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "compare A B [--json]",
		Short: "Compare two profiles: curves, mixes and distributions",
		Long: `Compare prints how profile B differs from profile A: for each curve (new
sessions, requests, concurrency per minute, aligned from each profile's start)
the Pearson correlation and the ratio of peaks; for each mix (routes, region,
device, protocol, status) the share deltas in percentage points; for each
distribution (session length, requests per session, think time) the
Kolmogorov–Smirnov distance and the medians.`,
		Example: `  surge profile compare profiles/final-2025 profiles/sat
  surge profile compare a b --json | jq '.mixes[] | select(.dimension=="region")'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := profile.Load(args[0])
			if err != nil {
				return err
			}
			b, err := profile.Load(args[1])
			if err != nil {
				return err
			}
			c := profile.Compare(a, b)
			if cfg.s.Profile.Compare.JSON {
				return writeJSON(cmd.OutOrStdout(), c)
			}
			return c.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().Bool("json", false, "print the comparison as JSON")
	cfg.bindAll(cmd, "profile.compare")
	return cmd
}
