package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/profile"
)

// profileSynthSettings are surge profile synth's keys.
type profileSynthSettings struct {
	From     []string      `mapstructure:"from"`
	Duration time.Duration `mapstructure:"duration"`
	Scale    float64       `mapstructure:"scale"`
	Seed     uint64        `mapstructure:"seed"`
	Start    string        `mapstructure:"start"`
	Output   string        `mapstructure:"output"`
	Force    bool          `mapstructure:"force"`
}

// validate returns every bad value of the synth keys.
func (s *profileSynthSettings) validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &keyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if s.Duration < 0 || s.Duration > profile.MaxSynthDuration {
		bad("profile.synth.duration", "%v: want 0 (the profile's span) or more, at most %v", s.Duration, profile.MaxSynthDuration)
	}
	if !(s.Scale > 0 && s.Scale <= 1e6) {
		bad("profile.synth.scale", "%v: want a scale above 0, at most 1e6 (1.5 = half again as many new sessions)", s.Scale)
	}
	if s.Start != "" {
		if _, err := time.Parse(time.RFC3339Nano, s.Start); err != nil {
			bad("profile.synth.start", "%q is not an RFC 3339 time (2026-11-28T00:00:00Z)", s.Start)
		}
	}
	if s.Output != "" {
		if err := checkFileOutput(s.Force, s.Output); err != nil {
			bad("profile.synth.output", "%s: %v", s.Output, err)
		}
	}
	return errs
}

func newProfileSynthCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "synth PROFILE --from CAPTURE [--duration 24h] [--scale 1.5] -o synthetic.parquet",
		Short: "Write a capture of real recorded sessions resampled to follow a profile",
		Long: `Synth writes a capture made of the recorded sessions of --from, copied whole
(their requests, order and gaps), moved in time and given new session and user
ids per copy, chosen so that new sessions per minute follow the profile's
arrival curve (times --scale) for --duration, and the route mix, session class
mix and session lengths follow the profile's as near as the capture's sessions
allow (they are weighted toward it). A duration longer than the profile repeats
its curve: a day's profile over a week repeats the day. Each minute copies the
sessions that started in the matching minute of the capture (proportionally,
when the capture and the profile differ in length).

Everything is deterministic by --seed. The file is written to a temporary file
and renamed. Synth prints its error against the profile: new sessions per
minute, route and class mix (percentage points), session-length KS distance
(docs/PROFILES.md).`,
		Example: `  surge profile synth profiles/final --from final.parquet --duration 1h --scale 1.5 -o synthetic.parquet`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s := &cfg.s.Profile.Synth
			var errs []error
			if len(s.From) == 0 {
				errs = append(errs, errors.New("profile synth: --from CAPTURE is required: the recorded sessions to copy"))
			}
			if s.Output == "" {
				errs = append(errs, errors.New("profile synth: --output (-o) FILE.parquet is required"))
			}
			if err := repeatedCapture(cfg.label("profile.synth.from"), s.From); err != nil {
				errs = append(errs, err)
			}
			if len(errs) > 0 {
				return usageError(errs)
			}
			p, err := profile.Load(args[0])
			if err != nil {
				return err
			}
			target, err := profile.TargetOf(p)
			if err != nil {
				return err
			}
			c := profile.SynthConfig{Capture: s.From, Duration: s.Duration, Scale: s.Scale, Seed: s.Seed}
			if c.Duration == 0 {
				c.Duration = time.Duration(len(target.Arrivals)) * time.Minute
			}
			if s.Start != "" {
				c.Start, _ = time.Parse(time.RFC3339Nano, s.Start) // checked by validate
			}
			began := time.Now()
			// Ctrl-C or SIGTERM stops the copy and removes the temporary file.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := profile.Synth(ctx, c, target, s.Output)
			if err != nil {
				return stoppedBySignal(cmd.Context(), ctx, "profile synth", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s in %v\n", s.Output, time.Since(began).Round(time.Millisecond))
			return rep.WriteText(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringSlice("from", nil, "the capture whose recorded sessions are copied: .parquet files or hive directories (required; repeatable)")
	f.Duration("duration", 0, "how long new sessions arrive in the synthetic capture (0: the profile's span)")
	f.Float64("scale", 1, "multiply the profile's arrival curve (1.5 = half again as many new sessions per minute)")
	f.Uint64("seed", 1, "the same seed, profile and capture give the same file")
	f.String("start", "", "the synthetic capture's start, RFC 3339 (default: the profile's start)")
	f.StringP("output", "o", "", "the Parquet file to write (required)")
	f.Bool("force", false, "replace an existing output")
	cfg.bindAll(cmd, "profile.synth")
	return cmd
}
