package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/demo"
)

func newDemoServeCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080]",
		Short: "Run the demo platform alone, to try surge or other load tools against it",
		Long: `Serve starts the demo platform (the imitation of the sample's streaming API
that surge demo replays against) on a loopback address and keeps it up until
interrupted (or for --for), then prints what it saw: requests, status mix and
service times per route class. --speed scales its capacities as surge demo
does for a replay that fast.`,
		Example: `  surge demo serve --addr 127.0.0.1:8080 &
  surge replay --from out/demo/match-night.parquet --target http://127.0.0.1:8080 --ratio 1 --speed 30
  surge demo serve --for 10s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// --speed, --for and the form of --addr were checked with the
			// config (settings.Validate).
			o := cfg.s.Demo.Serve
			addr, speed, lifetime := o.Addr, o.Speed, o.For
			srv, err := demo.Start(demo.Config{Addr: addr, Capacity: scaledCapacity(speed), AcceptEmptyLogin: true})
			if errors.Is(err, demo.ErrNotLoopback) {
				return &exitError{exitUsage, fmt.Errorf("demo serve: --addr %s: %w", addr, err)}
			}
			if err != nil {
				return fmt.Errorf("demo serve: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "demo platform on %s (Ctrl-C stops it)\n", srv.URL())
			ch := make(chan os.Signal, 1)
			signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(ch)
			var timeout <-chan time.Time
			if lifetime > 0 {
				timeout = time.After(lifetime)
			}
			select {
			case <-ch:
			case <-timeout:
			case <-cmd.Context().Done():
			}
			srv.Close()
			printDemoStats(cmd, srv.Stats())
			return nil
		},
	}
	f := cmd.Flags()
	f.String("addr", "127.0.0.1:8080", "loopback address to listen on (127.0.0.0/8, ::1, localhost; port 0 picks a free one)")
	f.Float64("speed", 1, "scale the capacities for a replay this much faster than recorded")
	f.Duration("for", 0, "stop after this long (0: when interrupted)")
	cfg.bindAll(cmd, "demo.serve")
	return cmd
}
