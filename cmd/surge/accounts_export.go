package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/accounts"
)

type accountsExportSettings struct {
	Format string `mapstructure:"format"`
	Output string `mapstructure:"output"`
	Force  bool   `mapstructure:"force"`
}

func newAccountsExportCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export POOL --format csv|jsonl [-o FILE]",
		Short: "Write a pool's accounts as CSV or JSON lines, for seeding staging",
		Long: `Export writes every account of a pool (account, user, credential, region,
device, history) for loading into the staging user and history stores:
jsonl is one JSON object per account; csv is one row per account with the
history as a JSON array in its last column. Written to -o (complete or not at
all) or to standard output. Ctrl-C or SIGTERM stops it (exit 130) and leaves
-o as it was: nothing, or the file --force would have replaced.`,
		Example: `  surge accounts export pool/ --format jsonl -o accounts.jsonl
  surge accounts export pool/ --format csv | psql -c "\copy staging_accounts FROM STDIN CSV HEADER"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Ctrl-C or SIGTERM stops the export: -o is left as it was.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return exportAccounts(ctx, cmd, cfg, args[0])
		},
	}
	f := cmd.Flags()
	f.String("format", accounts.FormatJSONL, "csv or jsonl")
	f.StringP("output", "o", "", "write to this file (default: standard output)")
	f.Bool("force", false, "replace an existing output")
	cfg.bindAll(cmd, "accounts.export")
	return cmd
}

// exportAccounts runs surge accounts export of pool under ctx, the
// command's context with the signals: a stop by signal exits 130 saying
// what was left (-o: nothing, written to a temporary file that is removed;
// standard output: the part written so far).
func exportAccounts(ctx context.Context, cmd *cobra.Command, cfg *config, pool string) error {
	s := &cfg.s.Accounts.Export
	if s.Format != accounts.FormatCSV && s.Format != accounts.FormatJSONL {
		return &exitError{exitUsage, fmt.Errorf("%s %q: want csv or jsonl", cfg.label("accounts.export.format"), s.Format)}
	}
	if s.Output == "" {
		_, err := accounts.Export(ctx, pool, s.Format, cmd.OutOrStdout())
		return stoppedBySignalLeaving(cmd.Context(), ctx, "accounts export", "standard output has the accounts written so far", err)
	}
	if err := checkFileOutput(s.Force, s.Output); err != nil {
		return &exitError{exitUsage, fmt.Errorf("%s %s: %w", cfg.label("accounts.export.output"), s.Output, err)}
	}
	var n int64
	err := writeAtomic(s.Output, func(w io.Writer) (err error) {
		n, err = accounts.Export(ctx, pool, s.Format, w)
		return err
	})
	if err != nil {
		return stoppedBySignal(cmd.Context(), ctx, "accounts export", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "exported %d accounts to %s\n", n, s.Output)
	return nil
}
