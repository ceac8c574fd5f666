// Command surge records production traffic as an event log and replays it,
// amplified and reshaped, against a staging system.
//
// This package is thin: each subcommand (one file each) parses flags and
// configuration into an options struct and calls the library in one place.
// Viper is used here and in config.go only.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"runtime/trace"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code for errors that need a specific one.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	// Commands handle interrupts themselves: import cancels, replay stops
	// gracefully first.
	root := newRootCommand()
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "surge:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	root, _ := newRoot()
	return root
}

// newRoot returns the root command and the config its commands bind to.
func newRoot() (*cobra.Command, *config) {
	cfg := newConfig()
	var cpuprofile, memprofile, tracefile string
	root := &cobra.Command{
		Use:   "surge",
		Short: "Record production traffic and replay it, amplified, against staging",
		Long: `surge turns real traffic (access logs, HAR, GoReplay files, viewing histories)
into a time-ordered Parquet event log and replays it, amplified and reshaped,
against a staging system.

Configuration: every option can come from a flag, a YAML file (--config) or a
SURGE_* environment variable (SURGE_SCRUB_KEY, SURGE_IMPORT_STRICT, ...), in
that order of precedence.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := startProfile(cpuprofile); err != nil {
				return err
			}
			if err := startTrace(tracefile); err != nil {
				return err
			}
			return cfg.load()
		},
		PersistentPostRun: func(cmd *cobra.Command, args []string) {
			pprof.StopCPUProfile()
			trace.Stop()
			writeHeapProfile(memprofile)
		},
	}
	root.SetFlagErrorFunc(flagError)
	root.PersistentFlags().StringVar(&cfg.file, "config", "", "YAML config file (see configs/)")
	root.PersistentFlags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile to this file")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentFlags().StringVar(&memprofile, "memprofile", "", "write an allocation profile to this file at the end")
	root.PersistentFlags().MarkHidden("memprofile")
	root.PersistentFlags().StringVar(&tracefile, "trace", "", "write a Go execution trace (runtime/trace) to this file: scheduling latency, GC, syscalls")
	root.PersistentFlags().MarkHidden("trace")
	root.AddCommand(newImportCommand(cfg), newInspectCommand(cfg), newReplayCommand(cfg), newDemoCommand(cfg), newReportCommand(cfg),
		newKafkaCommand(cfg), newAgentCommand(cfg), newRunCommand(cfg), newCtlCommand(cfg), newVersionCommand(), newCaptureCommand(cfg),
		newProfileCommand(cfg), newAccountsCommand(cfg))
	usageArgs(root) // usage.go: argument errors exit 2 and show the usage line
	return root, cfg
}

// startProfile starts a CPU profile to path, if path is set (a hidden flag
// for tuning).
func startProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return pprof.StartCPUProfile(f)
}

// startTrace starts a Go execution trace to path, if path is set (a hidden
// flag for finding stalls: `go tool trace` shows each goroutine's
// scheduling latency, GC phases and blocking system calls).
func startTrace(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return trace.Start(f)
}

// writeHeapProfile writes the allocation profile to path, if path is set
// (a hidden flag for tuning).
func writeHeapProfile(path string) {
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "surge: memprofile:", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		fmt.Fprintln(os.Stderr, "surge: memprofile:", err)
	}
}
