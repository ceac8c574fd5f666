package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/surge-replay/surge/accounts"
	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/report"
)

// loadAccounts reads --accounts: a pool directory (its index loaded, the
// histories left on disk) or a CSV of accounts; and --accounts-exhausted.
func (o *replayOptions) loadAccounts(cfg *config) []error {
	var errs []error
	switch p := cfg.s.Replay.AccountsExhausted; p {
	case "", accounts.ExhaustedShare, accounts.ExhaustedStop:
		o.engine.AccountsExhausted = p
	default:
		errs = append(errs, fmt.Errorf("%s %q: want %s or %s", cfg.label("replay.accounts_exhausted"), p, accounts.ExhaustedShare, accounts.ExhaustedStop))
	}
	path := cfg.s.Replay.Accounts
	if path == "" {
		return errs
	}
	o.accountsSource = path
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		start := time.Now()
		pool, err := accounts.Open(path)
		if err != nil {
			return append(errs, fmt.Errorf("%s: %w", cfg.label("replay.accounts"), err))
		}
		o.engine.Pool = pool
		o.accountsLoad = time.Since(start)
		return errs
	}
	list, err := replay.LoadAccounts(path)
	if err != nil {
		return append(errs, fmt.Errorf("%s: %w", cfg.label("replay.accounts"), err))
	}
	o.engine.Accounts = list
	return errs
}

// accountsSummary is the report's accounts section, nil without accounts.
func (o *replayOptions) accountsSummary(st *replay.Stats) *report.AccountsSummary {
	if o.accountsSource == "" || st == nil {
		return nil
	}
	a := &report.AccountsSummary{Source: o.accountsSource, Leased: st.AccountsLeased, Exhausted: st.AccountsExhausted,
		OnExhausted: o.engine.AccountsExhausted, Accounts: int64(len(o.engine.Accounts))}
	if a.OnExhausted == "" {
		a.OnExhausted = accounts.ExhaustedShare
	}
	if p := o.engine.Pool; p != nil {
		a.Pool, a.Accounts = true, int64(p.Accounts())
		a.SharedSessions, a.Unmatched = st.AccountsSharedSessions, st.AccountsUnmatched
	}
	return a
}

// poolCheckWarning says when the pool's index has no checksums (a pool
// built before index version 2): it is read unchecked; "" otherwise.
func poolCheckWarning(p *accounts.Pool) string {
	if p == nil || p.Checked() {
		return ""
	}
	return fmt.Sprintf("accounts: warning: %s has no checksums (built by an older surge): a damaged name or credential would go unnoticed; rebuild the pool (surge accounts build --force) to have it checked\n", p.Path())
}

// poolWarning says when no virtual user found its recorded user in the
// pool: the capture and the viewing histories were most likely imported
// with different scrub keys (user ids are keyed hashes).
func poolWarning(w io.Writer, st *replay.Stats) {
	if st.AccountsLeased > 0 && st.AccountsUnmatched == st.AccountsLeased {
		fmt.Fprintf(w, "accounts: warning: none of the %d virtual users' recorded users is in the pool: were the capture and the viewing histories imported with the same scrub key?\n", st.AccountsLeased)
	}
}

// leasedLine prints how many accounts were leased and how many virtual
// users found the pool exhausted, and what they did then (onExhausted,
// --accounts-exhausted): shared an account, or stopped the run.
func leasedLine(w io.Writer, st *replay.Stats, onExhausted string) {
	if st.AccountsLeased == 0 {
		return
	}
	then := "shared one"
	if onExhausted == accounts.ExhaustedStop {
		then = "stopped the run (--accounts-exhausted stop)"
	}
	fmt.Fprintf(w, "accounts: %d leased to virtual users, %d found the pool exhausted and %s\n", st.AccountsLeased, st.AccountsExhausted, then)
}

// closeAccounts closes the pool's index file, if one is open.
func (o *replayOptions) closeAccounts() {
	if o.engine.Pool != nil {
		o.engine.Pool.Close()
	}
}
