package main

import (
	"fmt"
	"net/url"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/surge-replay/surge/demo"
)

// demoCapture is where make demo imports the bundled sample.
const demoCapture = "out/demo/match-night.parquet"

func newDemoCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo [--from CAPTURE] [--ratio 3] [--speed 30]",
		Short: "Replay the sample match night at 3x against a built-in imitation of its platform",
		Long: `Demo starts a built-in imitation of the sample's streaming platform API on
127.0.0.1 (home, browse, search, live manifests and segments, recommendations,
chat, heartbeats), with realistic service times and a capacity per route, and
replays a capture against it — by default the bundled match night (make demo
imports it to ` + demoCapture + `) at 3x the viewers, 30x faster — then prints the
report. At 1x the platform copes; at 3x search, recommendations and login
degrade. Every replay flag applies.

The demo platform's capacities are scaled by --speed, so a faster replay meets
the same utilization as the recorded night at its own pace.`,
		Example: `  make demo
  surge demo --from out/demo/match-night.parquet --ratio 1
  surge demo --ratio 3 --speed 30 --results out/demo/results.parquet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The replay keys come from demo's own flags: bind and decode
			// again (the root decoded them bound to replay's), before the
			// platform starts.
			cfg.bindAll(cmd, "replay", "allow")
			cfg.bind(cmd, "targets.allow", "allow")
			if err := cfg.load(); err != nil {
				return err
			}
			srv, err := demo.Start(demo.Config{Capacity: scaledCapacity(cfg.s.Replay.Speed), AcceptEmptyLogin: true})
			if err != nil {
				return err
			}
			defer srv.Close()
			cfg.s.Replay.Target = srv.URL()
			o, err := replayOptionsFrom(cfg)
			if err != nil {
				return &exitError{2, err}
			}
			if err := demoCaptureMissing(o.captures); err != nil {
				return err
			}
			if o.engine.MaxConns == demoDefaultConns {
				// Not set by the user: as many as the descriptors allow.
				o.engine.MaxConns = demoMaxConns()
			}
			o.engine.Target, _ = url.Parse(srv.URL())
			o.gate.lenient = true // a demo gates only on the thresholds asked for
			err = runReplay(cmd, o, nil)
			printDemoStats(cmd, srv.Stats())
			return err
		},
	}
	addReplayFlags(cmd)
	f := cmd.Flags()
	// The demo's own defaults; Set on a scalar flag replaces its value, and
	// Replace on a slice keeps the user's first --from from appending to it.
	for name, value := range map[string]string{"ratio": "3", "speed": "30", "spread": "2s", "max-lateness": "2s", "max-conns": strconv.Itoa(demoDefaultConns)} {
		f.Lookup(name).DefValue = value
		if err := f.Lookup(name).Value.Set(value); err != nil {
			panic(err)
		}
	}
	from := f.Lookup("from")
	from.DefValue = "[" + demoCapture + "]"
	if err := from.Value.(pflag.SliceValue).Replace([]string{demoCapture}); err != nil {
		panic(err)
	}
	f.MarkHidden("target")
	cmd.AddCommand(newDemoServeCommand(cfg))
	return cmd
}

// demoCaptureMissing explains what to run when surge demo's default capture
// is not there (outside a checkout, or before make demo imported it).
func demoCaptureMissing(captures []string) error {
	if len(captures) != 1 || captures[0] != demoCapture {
		return nil
	}
	if _, err := os.Stat(demoCapture); err == nil {
		return nil
	}
	return &exitError{exitUsage, fmt.Errorf("demo: no capture at %s: run make demo in a surge checkout (it imports the bundled sample there), or give --from CAPTURE", demoCapture)}
}

// scaledCapacity returns the demo platform's capacities for a replay speed.
func scaledCapacity(speed float64) map[string]int {
	speed = max(speed, 1)
	caps := demo.DefaultCapacity()
	for class, n := range caps {
		caps[class] = max(1, int(float64(n)*speed*demoHeadroom+0.5))
	}
	return caps
}

func printDemoStats(cmd *cobra.Command, st demo.Stats) {
	fmt.Fprintf(cmd.OutOrStdout(), "\ndemo platform, as the server saw it:\n%s", st)
}

// demoDefaultConns is the --max-conns surge demo shows as its default; a run
// that keeps it gets demoMaxConns instead.
const demoDefaultConns = 4096

// demoHeadroom scales the platform's capacities below the recorded night's
// pace: a compressed replay has less time to smooth its bursts, and the demo
// should show where 3x hurts while 1x stays healthy.
const demoHeadroom = 0.6
