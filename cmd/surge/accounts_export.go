package main

import (
	"fmt"
	"io"

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
all) or to standard output.`,
		Example: `  surge accounts export pool/ --format jsonl -o accounts.jsonl
  surge accounts export pool/ --format csv | psql -c "\copy staging_accounts FROM STDIN CSV HEADER"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s := &cfg.s.Accounts.Export
			if s.Format != accounts.FormatCSV && s.Format != accounts.FormatJSONL {
				return &exitError{exitUsage, fmt.Errorf("%s %q: want csv or jsonl", cfg.label("accounts.export.format"), s.Format)}
			}
			if s.Output == "" {
				_, err := accounts.Export(args[0], s.Format, cmd.OutOrStdout())
				return err
			}
			if err := checkFileOutput(s.Force, s.Output); err != nil {
				return &exitError{exitUsage, fmt.Errorf("%s %s: %w", cfg.label("accounts.export.output"), s.Output, err)}
			}
			var n int64
			err := writeAtomic(s.Output, func(w io.Writer) (err error) {
				n, err = accounts.Export(args[0], s.Format, w)
				return err
			})
			if err == nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "exported %d accounts to %s\n", n, s.Output)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.String("format", accounts.FormatJSONL, "csv or jsonl")
	f.StringP("output", "o", "", "write to this file (default: standard output)")
	f.Bool("force", false, "replace an existing output")
	cfg.bindAll(cmd, "accounts.export")
	return cmd
}
