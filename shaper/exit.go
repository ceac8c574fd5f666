package shaper

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/surge-replay/surge/schema"

	"github.com/surge-replay/surge/internal/keyhash"
)

// ExitSpec is an exit: at At, a Fraction of the live virtual sessions (of
// Class, or all) end, each chosen by a keyed hash of the session, the exit's
// offset and the seed (so the same run ends the same sessions). With To,
// every ended session's virtual user starts a session drawn from the named
// SessionSet To, within Within of the exit: the "key moment sends viewers
// home" pattern.
//
//	exits:
//	  - {at: "20:31:00Z", fraction: 0.2, class: live, to: home, within: 1m}
type ExitSpec struct {
	// At is the capture time of the exit (see Settings); ignored in an
	// OpExit control, which takes effect at its own offset.
	At string `json:"at,omitempty"`
	// Fraction of the matching live virtual sessions to end, in [0, 1].
	Fraction float64 `json:"fraction"`
	// Class limits the exit to sessions of that class (its label); empty
	// means every session.
	Class string `json:"class,omitempty"`
	// To names the SessionSet the ended sessions' users go on with; empty
	// means they just leave.
	To string `json:"to,omitempty"`
	// Within spreads the follow-up sessions' starts over [0, Within) of
	// schedule time after the exit; 0 starts them all at the exit.
	Within Duration `json:"within,omitempty"`
}

// String returns "20% of live to home within 1m0s".
func (e *ExitSpec) String() string {
	class := "all"
	if e.Class != "" {
		class = e.Class
	}
	s := fmt.Sprintf("%s%% of %s", num(e.Fraction*100), class)
	if e.At != "" {
		s += " at " + e.At
	}
	if e.To != "" {
		s += " to " + e.To
		if e.Within > 0 {
			s += fmt.Sprintf(" within %v", time.Duration(e.Within))
		}
	}
	return s
}

func (e *ExitSpec) validate() error {
	if math.IsNaN(e.Fraction) || e.Fraction < 0 || e.Fraction > 1 {
		return fmt.Errorf("exit %v: fraction %v is not between 0 and 1", e, e.Fraction)
	}
	if e.Within < 0 {
		return fmt.Errorf("exit %v: within is negative", e)
	}
	return nil
}

// SetSpec selects a named set of recorded sessions: those whose first
// request (Seq 0) matches, at most Max of them (0: 100), each cut to its
// first MaxRequests requests (0: 50) and to the requests within MaxLength
// of capture time of its first (0: 2m): follow-ups are short sessions.
//
//	sessions:
//	  home: {match: "path=/api/v1/home", max: 200}
type SetSpec struct {
	Match       Conds    `json:"match"`
	Max         int      `json:"max,omitempty"`
	MaxRequests int      `json:"max_requests,omitempty"`
	MaxLength   Duration `json:"max_length,omitempty"`
}

// SessionSet is a set of recorded sessions, each its requests in order.
type SessionSet [][]schema.Exchange

// CollectSets reads src to its end and returns the sets of specs, in
// recorded order (the first Max matching sessions). Memory is bounded by
// the sets' sizes.
func CollectSets(specs map[string]SetSpec, src Source) (map[string]SessionSet, error) {
	type set struct {
		spec  SetSpec
		m     Match
		sess  SessionSet
		index map[string]int // session key → index in sess
	}
	sets := map[string]*set{}
	for name, sp := range specs {
		m, err := ParseMatch(sp.Match)
		if err != nil {
			return nil, fmt.Errorf("sessions %s: %w", name, err)
		}
		if len(sp.Match) == 0 {
			return nil, fmt.Errorf("sessions %s: no match", name)
		}
		sp.Max = cmp.Or(sp.Max, 100)
		sp.MaxRequests = cmp.Or(sp.MaxRequests, 50)
		sp.MaxLength = cmp.Or(sp.MaxLength, Duration(2*time.Minute))
		sets[name] = &set{spec: sp, m: m, index: map[string]int{}}
	}
	for {
		e, err := src()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		for _, s := range sets {
			if i, ok := s.index[e.Session]; ok {
				if len(s.sess[i]) < s.spec.MaxRequests && e.Time.Sub(s.sess[i][0].Time) <= time.Duration(s.spec.MaxLength) {
					s.sess[i] = append(s.sess[i], *e)
				}
				continue
			}
			if e.Seq == 0 && len(s.sess) < s.spec.Max && s.m.Matches(e, "") {
				s.index[e.Session] = len(s.sess)
				s.sess = append(s.sess, []schema.Exchange{*e})
			}
		}
	}
	out := map[string]SessionSet{}
	for name, s := range sets {
		out[name] = s.sess
	}
	return out, nil
}

// ended is a virtual session an exit ended, for its follow-up.
type ended struct {
	key   string // recorded session
	clone int32
	user  string
	class string
}

// exit ends the fraction of the live virtual sessions that spec selects at
// schedule offset at: their requests due at or after it are dropped, held
// ones too, and each one's user starts a follow-up session from spec.To.
func (s *Shaper) exit(spec *ExitSpec, at time.Duration) {
	var out []ended
	for key, ss := range s.live.m {
		if spec.Class != "" && ss.class != spec.Class {
			continue
		}
		for k := range ss.clones {
			c := &ss.clones[k]
			if c.ended || keyhash.Unit(keyed(domainExit, s.cfg.Seed^uint64(at), s.loop, int32(k), key)) >= spec.Fraction {
				continue
			}
			c.ended = true
			out = append(out, ended{key: key, clone: int32(k), user: c.user, class: ss.class})
		}
	}
	if len(out) == 0 {
		return
	}
	// Map order is random; the schedule must not be.
	slices.SortFunc(out, func(a, b ended) int {
		return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.clone, b.clone))
	})
	gone := map[ended]bool{}
	for _, e := range out {
		gone[ended{key: e.key, clone: e.clone}] = true
	}
	s.pending.kill(func(r *Request) bool {
		return r.At >= at && r.Loop == s.loop && gone[ended{key: r.Session, clone: r.Clone}]
	})
	s.stats.Exited += int64(len(out))
	if spec.To == "" {
		return
	}
	set := s.cfg.Sets[spec.To]
	if len(set) == 0 {
		return // checked by New; an empty set has nothing to start
	}
	for _, e := range out {
		s.follow(set, spec.To, e, at, time.Duration(spec.Within))
	}
}

// follow starts a follow-up session for e: a session of set, chosen by a
// keyed hash, at at plus a jitter below within, as e's virtual user,
// labelled with the set's name as its class.
func (s *Shaper) follow(set SessionSet, class string, e ended, at, within time.Duration) {
	h := keyed(domainFollow, s.cfg.Seed^uint64(at), s.loop, e.clone, e.key)
	rec := set[below(h, time.Duration(len(set)))]
	start := at
	if within > 0 {
		start += below(keyhash.Mix(h), within)
	}
	virtual := keyhash.Ident('s', keyhash.Mix(h^0x9e3779b97f4a7c15))
	first := rec[0].Time
	prev := first
	var took time.Duration
	for j := range rec {
		ex := &rec[j]
		var think time.Duration
		if j > 0 {
			think = scaled(float64(max(ex.Time.Sub(prev)-took, 0)), s.speed)
		}
		prev = ex.Time
		took, _ = ex.Latency()
		s.pending.push(Request{
			At:             start + scaled(float64(ex.Time.Sub(first)), s.speed),
			Think:          think,
			Session:        ex.Session,
			Clone:          -1,
			Loop:           s.loop,
			VirtualSession: virtual,
			User:           e.user,
			First:          j == 0,
			Class:          class,
			Exchange:       ex,
		}, s.seq)
		s.seq++
	}
	s.stats.FollowUps++
	s.stats.VirtualSessions++
}
