package main

import (
	"strings"
	"testing"

	"github.com/surge-replay/surge/accounts"
	"github.com/surge-replay/surge/replay"
)

// TestLeasedLine checks the accounts line says what the virtual users that
// found the pool exhausted did: with --accounts-exhausted stop they did not
// share an account, the run stopped.
func TestLeasedLine(t *testing.T) {
	for _, tc := range []struct {
		st       replay.Stats
		mode     string
		want     string // "" for no line
		wantNone string // text the line must not have
	}{
		// share: the default
		{replay.Stats{AccountsLeased: 603, AccountsExhausted: 123}, accounts.ExhaustedShare, "603 leased to virtual users, 123 found the pool exhausted and shared one", ""},
		// stop: nobody shared
		{replay.Stats{AccountsLeased: 81, AccountsExhausted: 1}, accounts.ExhaustedStop, "1 found the pool exhausted and stopped the run", "shared"},
		// no lease: no line
		{replay.Stats{}, accounts.ExhaustedShare, "", ""},
	} {
		var b strings.Builder
		leasedLine(&b, &tc.st, tc.mode)
		got := b.String()
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) || tc.wantNone != "" && strings.Contains(got, tc.wantNone) {
			t.Errorf("%+v, %s: %q; want %q without %q", tc.st, tc.mode, got, tc.want, tc.wantNone)
		}
	}
}
