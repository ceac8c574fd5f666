package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/surge-replay/surge/accounts"
	"github.com/surge-replay/surge/internal/memstat"
)

// accountsSettings are surge accounts' keys (docs/ACCOUNTS.md).
type accountsSettings struct {
	// TokenKey is the HMAC key of minted tokens; no flag: keep it in
	// SURGE_ACCOUNTS_TOKEN_KEY or give --token-key-file.
	TokenKey string                 `mapstructure:"token_key"`
	Build    accountsBuildSettings  `mapstructure:"build"`
	Export   accountsExportSettings `mapstructure:"export"`
}

type accountsBuildSettings struct {
	Views           []string `mapstructure:"views"`
	RatioMax        float64  `mapstructure:"ratio_max"`
	Credentials     string   `mapstructure:"credentials"`
	TokenTemplate   string   `mapstructure:"token_template"`
	AccountTemplate string   `mapstructure:"account_template"`
	TokenKeyFile    string   `mapstructure:"token_key_file"`
	Epoch           string   `mapstructure:"epoch"`
	Output          string   `mapstructure:"output"`
	Force           bool     `mapstructure:"force"`
	Buckets         int      `mapstructure:"buckets"`
}

func newAccountsCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "accounts",
		Short: "Build and export the test-account pool made from viewing histories",
		Long: `A pool of test accounts that carry real viewing histories (docs/ACCOUNTS.md):
surge accounts build makes it from a viewing-history capture (surge import
views), surge accounts export writes it as CSV or JSON lines for seeding the
staging user and history stores, surge accounts verify checks its index
against its checksums, and surge replay --accounts POOL/ signs each
virtual user in as an account of its recorded user.`,
	}
	cmd.AddCommand(newAccountsBuildCommand(cfg), newAccountsExportCommand(cfg), newAccountsVerifyCommand())
	return cmd
}

func newAccountsBuildCommand(cfg *config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "build --views VIEWS --ratio-max R (--credentials CSV | --token-template T) -o POOL",
		Short: "Build an account pool from viewing histories",
		Long: `Build gives every recorded user of the viewing histories ⌈R⌉ test accounts
(R = --ratio-max, the largest --ratio the pool is for) that carry the user's
history: its viewings (the events of one session for one content folded into
one: first time, furthest position, device), shifted so that the last event
of the capture falls at --epoch, and its latest region and device.

Credentials come from a CSV of staging accounts (--credentials, columns
account,token; one row per account, in order) or are minted: account names
from --account-template ({user}, {k}), tokens from --token-template
({account}, {user}, {k}, {hmac}: hex HMAC-SHA256 of the account name under
the key in --token-key-file or SURGE_ACCOUNTS_TOKEN_KEY).

The build streams: events are spread over bucket files by user and each
bucket is sorted alone, so memory is bounded by a bucket, not the capture.
The pool directory (accounts.parquet, index.bin, pool.json) appears complete
or not at all.`,
		Example: `  surge accounts build --views views.parquet --ratio-max 3 --token-template 'tok.{account}.{hmac}' --token-key-file key -o pool/
  surge accounts build --views views/ --ratio-max 2.5 --credentials staging-accounts.csv -o pool/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			bc, closeCreds, err := accountsBuildOptions(cfg)
			if closeCreds != nil {
				defer closeCreds()
			}
			if err != nil {
				return &exitError{exitUsage, err}
			}
			ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer cancel()
			start := time.Now()
			meta, err := accounts.Build(ctx, *bc)
			if err != nil {
				return stoppedBySignal(cmd.Context(), ctx, "accounts build", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pool %s: %d accounts for %d users (%d each), %d events, %d viewings, epoch %s\n",
				bc.Out, meta.Accounts, meta.Users, meta.PerUser, meta.Events, meta.Viewings, meta.Epoch.Format(time.RFC3339))
			if meta.SkippedNoUser > 0 || meta.Collisions > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "skipped %d events without a user; %d users share an index entry (hash collision)\n", meta.SkippedNoUser, meta.Collisions)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "built in %.1f s, peak RSS %d MiB\n", time.Since(start).Seconds(), memstat.PeakRSS()>>20)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSlice("views", nil, "viewing-history capture: a .parquet file or hive directory from surge import views (repeatable)")
	f.Float64("ratio-max", 1, "the largest replay ratio the pool serves: ⌈R⌉ accounts per recorded user")
	f.String("credentials", "", "CSV of staging accounts (columns account,token), one per pool account, in order")
	f.String("token-template", "", "mint tokens: text with {account}, {user}, {k}, {hmac} (hex HMAC-SHA256 of the account name)")
	f.String("account-template", accounts.DefaultAccountTemplate, "minted account names: text with {user} (recorded user id) and {k} (0..⌈R⌉-1)")
	f.String("token-key-file", "", "file holding the HMAC key of {hmac} (else SURGE_ACCOUNTS_TOKEN_KEY)")
	f.String("epoch", "now", "the time the capture's last event is shifted to (RFC 3339), now, or none (no shift)")
	f.StringP("output", "o", "", "the pool directory to write")
	f.Bool("force", false, "replace an existing pool")
	f.Int("buckets", 0, "sort events in this many groups, a power of two up to 1024 (0: one per 256k events)")
	cfg.bindAll(cmd, "accounts.build")
	return cmd
}

// accountsBuildOptions turns the settings into a build configuration,
// returning every problem at once; closeCreds closes the credentials file.
func accountsBuildOptions(cfg *config) (*accounts.BuildConfig, func(), error) {
	s := &cfg.s.Accounts.Build
	bc := &accounts.BuildConfig{Views: s.Views, RatioMax: s.RatioMax, Out: s.Output, Force: s.Force, Buckets: s.Buckets}
	var errs []error
	bad := func(key string, err error) { errs = append(errs, fmt.Errorf("%s: %w", cfg.label(key), err)) }
	if len(s.Views) == 0 {
		errs = append(errs, errors.New("accounts build: no viewing histories: give --views"))
	}
	if err := repeatedCapture(cfg.label("accounts.build.views"), s.Views); err != nil {
		errs = append(errs, err) // each viewing would be in the history twice
	}
	if !(s.RatioMax > 0) || s.RatioMax > 1e6 {
		bad("accounts.build.ratio_max", fmt.Errorf("%g: want a number above 0 (the largest --ratio the pool serves)", s.RatioMax))
	}
	if s.Buckets < 0 || s.Buckets > 1024 || s.Buckets&(s.Buckets-1) != 0 {
		bad("accounts.build.buckets", fmt.Errorf("%d: want 0 or a power of two up to 1024", s.Buckets))
	}
	switch {
	case s.Output == "":
		errs = append(errs, errors.New("accounts build: no output: give -o POOL"))
	default:
		if err := checkOutput(s.Force, s.Output); err != nil {
			bad("accounts.build.output", fmt.Errorf("%s: %w", s.Output, err))
		} else if _, err := os.Stat(s.Output); err == nil && !s.Force {
			// A pool is replaced whole: even an empty directory is refused
			// here, a usage error, not by Build after reading the views.
			bad("accounts.build.output", fmt.Errorf("%s: exists; pass --force to replace it", s.Output))
		}
	}
	switch strings.ToLower(s.Epoch) {
	case "none", "":
	case "now":
		bc.Epoch = time.Now().UTC().Truncate(time.Second)
	default:
		t, err := time.Parse(time.RFC3339Nano, s.Epoch)
		if err != nil {
			bad("accounts.build.epoch", fmt.Errorf("%q: want an RFC 3339 time, now or none", s.Epoch))
		}
		bc.Epoch = t
	}
	perUser := int(math.Ceil(s.RatioMax))
	acct, err := accounts.ParseTemplate(s.AccountTemplate, accounts.FieldUser, accounts.FieldK)
	if err != nil {
		bad("accounts.build.account_template", err)
	} else if err := accounts.CheckAccountTemplate(acct, perUser); err != nil {
		bad("accounts.build.account_template", err)
	}
	var key []byte
	if s.TokenKeyFile != "" {
		raw, err := os.ReadFile(s.TokenKeyFile)
		if err != nil {
			bad("accounts.build.token_key_file", err)
		} else if key = []byte(strings.TrimSpace(string(raw))); len(key) == 0 {
			bad("accounts.build.token_key_file", fmt.Errorf("%s is empty", s.TokenKeyFile))
		}
	} else if cfg.s.Accounts.TokenKey != "" {
		key = []byte(cfg.s.Accounts.TokenKey)
	}
	var closeCreds func()
	switch {
	case s.Credentials != "" && s.TokenTemplate != "":
		errs = append(errs, fmt.Errorf("%s and %s: give one", cfg.label("accounts.build.credentials"), cfg.label("accounts.build.token_template")))
	case s.Credentials != "":
		f, err := os.Open(s.Credentials)
		if err != nil {
			bad("accounts.build.credentials", err)
			break
		}
		closeCreds = func() { f.Close() }
		if bc.Credentials, err = accounts.NewCredentialsReader(f, s.Credentials); err != nil {
			bad("accounts.build.credentials", err)
		}
		bc.CredentialsName = "csv:" + s.Credentials
	case s.TokenTemplate != "":
		tok, err := accounts.ParseTemplate(s.TokenTemplate, accounts.FieldAccount, accounts.FieldUser, accounts.FieldK, accounts.FieldHMAC)
		if err != nil {
			bad("accounts.build.token_template", err)
			break
		}
		if err := accounts.CheckTokenTemplate(tok, perUser); err != nil {
			bad("accounts.build.token_template", err)
		}
		if tok.Uses(accounts.FieldHMAC) && len(key) == 0 && s.TokenKeyFile == "" {
			bad("accounts.build.token_template", errors.New("{hmac} needs a key: give --token-key-file or SURGE_ACCOUNTS_TOKEN_KEY"))
		}
		bc.Minter = &accounts.Minter{Account: acct, Token: tok, Key: key}
	default:
		errs = append(errs, errors.New("accounts build: no credentials: give --credentials CSV or --token-template"))
	}
	return bc, closeCreds, errors.Join(errs...)
}
