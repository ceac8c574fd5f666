package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/accounts"
)

func newAccountsVerifyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "verify POOL",
		Short: "Check every byte of a pool's index against its checksums",
		Long: `Verify reads a pool's whole index.bin and checks its CRC-32C checksums: the
header, the user table, the account offsets, and the names and credentials
(docs/ACCOUNTS.md, "Integrity"). replay checks the header and the user table
at start-up and each account's record when it lends the account; verify
checks all of it, before a run. It reads the file once, sequentially. A
damaged index is an error (exit 1) naming the file and the part that
failed; so is an index written before the checksums (rebuild the pool).`,
		Example: `  surge accounts verify pool/`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			p, err := accounts.Open(args[0])
			if err != nil {
				return err
			}
			defer p.Close()
			if err := p.Verify(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pool %s: %s verified: %d accounts of %d users, checksums match (%.2f s)\n",
				args[0], p.Path(), p.Accounts(), p.Users(), time.Since(start).Seconds())
			return nil
		},
	}
}
