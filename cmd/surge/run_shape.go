package main

import (
	"encoding/json"
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
schedule offset (docs/SHAPING.md). Exits in a fleet start no follow-up
sessions: agents collect no session sets.`,
		Example: `  surge run shape --brokers 127.0.0.1:9092 run-1 live-10x.yaml
  surge run shape --brokers 127.0.0.1:9092 exit run-1 0.2 --class live`,
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
				run = args[1]
				ctl = shaper.Control{Op: shaper.OpExit, Exit: &shaper.ExitSpec{Fraction: f, Class: cfg.s.Run.Shape.Class}}
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
			}
			return publishControl(cmd, cfg, t, fleet.Event{Run: run, Op: fleet.OpShape, Shape: &ctl})
		},
	}
	cmd.Flags().String("class", "", "exit: only sessions of this class")
	cfg.bindAll(cmd, "run.shape")
	return cmd
}
