package replay

import "github.com/surge-replay/surge/accounts"

// A run with a Config.Pool signs virtual users in as the pool's accounts:
// the substituter asks an accounts.Lender for the lease of the request's
// virtual user (its identity), naming the recorded user and the clone, and
// fills a credential placeholder with the lease's credential. Under
// accounts.ExhaustedStop a refused lease marks the request (pending.halt):
// the producer hands it over and stops, and the pacer stops the run when
// the request is due, so the run ends where the schedule ran out of
// accounts, not where the producer (which works ahead) found out.

// usePool makes the lender of c.Pool, if the run has one.
func (s *substituter) usePool(c *Config) error {
	if c.Pool == nil {
		return nil
	}
	l, err := accounts.NewLender(c.Pool, accounts.LenderConfig{Idle: c.SessionIdle, Exhausted: c.AccountsExhausted})
	if err != nil {
		return err
	}
	s.lender = l
	return nil
}

// poolCredential returns the credential of the account leased to user, the
// identity of the request being prepared.
func (s *substituter) poolCredential(user string) string {
	var recorded, session string
	clone := 0
	if r := s.req; r != nil {
		session, clone = r.VirtualSession, int(r.Clone)
		if r.Exchange != nil {
			recorded = r.Exchange.User
		}
	}
	ls, err := s.lender.Get(user, recorded, session, clone, s.now)
	if err != nil {
		if s.halt == nil {
			s.halt = err
		}
		return ""
	}
	return ls.Credential
}

// poolStats copies the lender's counters into st.
func (r *run) poolStats(st *Stats) {
	if r.lender == nil {
		return
	}
	ls := r.lender.Stats()
	st.AccountsLeased, st.AccountsExhausted = ls.Leased, ls.Exhausted
	st.AccountsSharedSessions, st.AccountsUnmatched = ls.SharedSessions, ls.Unmatched
}
