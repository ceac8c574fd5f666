package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/fleet"
	"github.com/surge-replay/surge/shaper"
)

// newRunShapeCommand publishes a shaper control event of a fleet run: the
// same event surge ctl patch makes for a local replay.
func newRunShapeCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "shape RUN FILE | exit RUN FRACTION",
		Short: "Change a fleet run's shaping (classes, curves, content, rewrites) or end a fraction of its live sessions",
		Long: `Shape publishes a shaper control event to the fleet's control topic: "shape RUN
FILE" changes the shaping keys in FILE (YAML or JSON, the keys of the config's
shape block; - reads standard input), "shape exit RUN FRACTION" ends a fraction
of the live sessions (--class). Every agent folds the event in at the same
schedule offset (docs/SHAPING.md). An exit with --to starts follow-up
sessions from a session set of the run's shape block, as surge replay does.
A change to a class or set the run does not have is refused (exit 2).`,
		Example: `  surge run shape --brokers 127.0.0.1:9092 run-1 live-10x.yaml
  surge run shape --brokers 127.0.0.1:9092 exit run-1 0.2 --class live --to home --within 30s`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := runTopics(cfg)
			if err != nil {
				return err
			}
			var ctl shaper.Control
			var run string
			if args[0] == "exit" {
				if len(args) != 3 {
					return &exitError{exitUsage, fmt.Errorf("run shape exit: want RUN FRACTION")}
				}
				f, err := strconv.ParseFloat(args[2], 64)
				if err != nil {
					return &exitError{exitUsage, fmt.Errorf("run shape exit: fraction %q is not a number", args[2])}
				}
				if !(f >= 0 && f <= 1) {
					return &exitError{exitUsage, fmt.Errorf("run shape exit: fraction %s is not between 0 and 1 (0.2 ends a fifth of the live sessions)", args[2])}
				}
				run = args[1]
				ctl = shaper.Control{Op: shaper.OpExit, Exit: &shaper.ExitSpec{Fraction: f, Class: cfg.s.Run.Shape.Class,
					To: cfg.s.Run.Shape.To, Within: shaper.Duration(cfg.s.Run.Shape.Within)}}
				if err := checkRunChange(cmd, cfg, t, run, &ctl); err != nil {
					return err
				}
			} else {
				if len(args) != 2 {
					return &exitError{exitUsage, fmt.Errorf("run shape: want RUN FILE")}
				}
				body, err := ctlPatch(args[1], cmd.InOrStdin())
				if err != nil {
					return &exitError{exitUsage, err}
				}
				var set shaper.Settings
				if err := json.Unmarshal(body, &set); err != nil {
					return &exitError{exitUsage, err}
				}
				run = args[0]
				ctl = shaper.Control{Op: shaper.OpSet, Set: &set}
				if err := checkRunChange(cmd, cfg, t, run, &ctl); err != nil {
					return err
				}
			}
			return publishControl(cmd, cfg, t, fleet.Event{Run: run, Op: fleet.OpShape, Shape: &ctl})
		},
	}
	cmd.Flags().String("class", "", "exit: only sessions of this class")
	cmd.Flags().String("to", "", "exit: the session set (of the run's shape block) the users go on with")
	cmd.Flags().Duration("within", 0, "exit: spread the follow-up sessions over this much schedule time")
	cfg.bindAll(cmd, "run.shape")
	return cmd
}

// runShape reads the shape block of surge run start's config (the same
// keys and checks as surge replay's, every error with its line) into the
// run spec's Shape; nil when the config has none. A shape.ratio is the
// run's ratio (it wins over --ratio, as in surge replay): the spec keeps
// it as its Ratio, which surge run set ratio= changes.
func runShape(cfg *config, spec *fleet.RunSpec) (*shaper.Settings, error) {
	s, doc, err := shapeBlock(cfg)
	if err != nil || doc.node == nil {
		return nil, err
	}
	if err := loadContentFile(&s); err != nil {
		return nil, err
	}
	if errs := doc.wrap(s.Validate()); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if s.Ratio != nil {
		spec.Ratio, s.Ratio = *s.Ratio, nil
	}
	return &s, nil
}

// checkRunChange checks a shape change against the run's shaping as the
// control topic has it (the agents would refuse a bad one, each in its
// own log): an exit to a class or set the run does not have is a usage
// error here.
func checkRunChange(cmd *cobra.Command, cfg *config, t fleet.Topics, run string, ctl *shaper.Control) error {
	st, err := t.State(cmd.Context(), run)
	if err != nil {
		return err
	}
	cur := st.Shaping()
	if err := cur.CheckChange(ctl); err != nil {
		return &exitError{exitUsage, fmt.Errorf("run shape %s: refused: %w", run, err)}
	}
	return nil
}
