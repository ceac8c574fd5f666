package report

import (
	"fmt"
	"strings"
)

// AccountsSummary says how a run's virtual users signed in as test
// accounts (surge replay --accounts; docs/ACCOUNTS.md). It is nil in a
// RunSummary when the run had no accounts.
type AccountsSummary struct {
	// Source is the pool directory or the accounts CSV.
	Source string `json:"source"`
	// Pool is true for a pool built from viewing histories (accounts by
	// recorded user), false for a CSV of accounts.
	Pool bool `json:"pool"`
	// Accounts is how many accounts there are.
	Accounts int64 `json:"accounts"`
	// Leased counts leases: one per live virtual user that presented a
	// credential.
	Leased int64 `json:"leased"`
	// Exhausted counts virtual users that found every fitting account in
	// use and shared one (or stopped the run, OnExhausted stop).
	Exhausted int64 `json:"exhausted"`
	// SharedSessions counts the virtual sessions that ran without an
	// account of their own (pool only).
	SharedSessions int64 `json:"shared_sessions"`
	// Unmatched counts virtual users whose recorded user has no account in
	// the pool: they borrowed a free account of another user (pool only).
	Unmatched int64 `json:"unmatched"`
	// OnExhausted is the run's policy: share or stop.
	OnExhausted string `json:"on_exhausted"`
}

// writeAccounts prints the accounts line of the text report.
func (s *RunSummary) writeAccounts(b *strings.Builder) {
	a := s.Accounts
	if a == nil {
		return
	}
	fmt.Fprintf(b, "  accounts  %s leased of %s  exhausted %s virtual users", count(a.Leased), count(a.Accounts), count(a.Exhausted))
	if a.Pool {
		fmt.Fprintf(b, " (%s sessions without an account of their own)  not in pool %s", count(a.SharedSessions), count(a.Unmatched))
	}
	fmt.Fprintf(b, "  on exhaustion: %s\n", a.OnExhausted)
}
