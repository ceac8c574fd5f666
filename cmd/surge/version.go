package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print surge's version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			bi, ok := debug.ReadBuildInfo()
			if !ok {
				return fmt.Errorf("version: this binary carries no build information")
			}
			writeVersion(cmd.OutOrStdout(), bi)
			return nil
		},
	}
}

// writeVersion prints the module version ("(devel)" for a build from a
// checkout), the VCS commit and time with "+dirty" for uncommitted changes
// (from go build's vcs.* settings), and the Go version.
func writeVersion(w io.Writer, bi *debug.BuildInfo) {
	commit, when, dirty := "unknown", "", ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.time":
			when = " (" + s.Value + ")"
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	fmt.Fprintf(w, "surge %s\ncommit %s%s%s\n%s\n", bi.Main.Version, commit, dirty, when, bi.GoVersion)
}
