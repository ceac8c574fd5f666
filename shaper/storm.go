package shaper

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// StormSpec is a reconnect storm, one entry of the `storm:` list of the
// shape config: at At, the live WebSocket connections a storm selects are
// dropped and their clients reconnect by a policy. Either surge drops them
// (Fraction of the live connections, of Class or all: replay's registry
// drops round(Fraction × live) of them, chosen by a keyed hash of virtual
// session, clone and attempt, so the same run drops the same ones), or,
// with Restart, the target does: surge
// POSTs Restart on the target at At and the target closes its sockets
// itself (the demo target's /_demo/restart closes every WebSocket with
// close code 1012, Service Restart), and the clients it closed reconnect.
//
//	storm:
//	  - {at: "50%", fraction: 0.5, policy: decorrelated_jitter, base: 1s, cap: 30s, max_attempts: 8}
//	  - {at: "20:07:00Z", class: live, fraction: 1, policy: full_jitter, base: 500ms, cap: 10s}
//	  - {at: "+20m", restart: /_demo/restart, policy: exponential}
//
// The policies are replay/backoff's (Marc Brooker, "Exponential Backoff And
// Jitter", AWS Architecture Blog, 2015): none, fixed, exponential,
// full_jitter, equal_jitter, decorrelated_jitter. Storms are planned when
// the run starts, from the config; a live change cannot add one.
type StormSpec struct {
	// At is the capture time of the storm (see Settings), or a share of
	// the window ("50%": half-time of the replayed window). It fires in
	// every pass.
	At string `json:"at"`
	// Fraction of the matching live WebSocket connections surge drops, in
	// (0, 1]. Not with Restart.
	Fraction float64 `json:"fraction,omitempty"`
	// Class limits the drop to connections of that class (its label);
	// empty means every WebSocket connection.
	Class string `json:"class,omitempty"`
	// Restart is a path on the target ("/_demo/restart") that surge POSTs
	// at At, after which the target closes connections itself; empty means
	// surge drops them.
	Restart string `json:"restart,omitempty"`
	// Policy names the reconnect policy (replay/backoff); empty is none:
	// the dropped clients stay away.
	Policy string `json:"policy,omitempty"`
	// Base is the policy's first delay (0: backoff.DefaultBase, 500 ms),
	// Cap bounds every delay (0: backoff.DefaultCap, 30 s), MaxAttempts is
	// how many reconnects a client tries before it gives up (0: no limit).
	Base        Duration `json:"base,omitempty"`
	Cap         Duration `json:"cap,omitempty"`
	MaxAttempts int      `json:"max_attempts,omitempty"`
}

// StormPolicies returns the reconnect policy names a StormSpec accepts:
// replay/backoff's Kinds (a test there keeps the two lists equal).
func StormPolicies() []string {
	return []string{"none", "fixed", "exponential", "full_jitter", "equal_jitter", "decorrelated_jitter"}
}

// String returns "50% of all at 50% (decorrelated_jitter base=1s cap=30s)".
func (s *StormSpec) String() string {
	var b strings.Builder
	if s.Restart != "" {
		fmt.Fprintf(&b, "target restart (POST %s)", s.Restart)
	} else {
		class := "all"
		if s.Class != "" {
			class = s.Class
		}
		fmt.Fprintf(&b, "%s%% of %s dropped", num(s.Fraction*100), class)
	}
	if s.At != "" {
		b.WriteString(" at " + s.At)
	}
	policy := cmp.Or(normPolicy(s.Policy), "none")
	b.WriteString(", reconnect " + policy)
	if policy != "none" {
		if s.Base > 0 {
			fmt.Fprintf(&b, " base=%v", time.Duration(s.Base))
		}
		if s.Cap > 0 {
			fmt.Fprintf(&b, " cap=%v", time.Duration(s.Cap))
		}
		if s.MaxAttempts > 0 {
			fmt.Fprintf(&b, " max_attempts=%d", s.MaxAttempts)
		}
	}
	return b.String()
}

// normPolicy writes a policy name as StormPolicies does ("Full-Jitter" is
// "full_jitter").
func normPolicy(p string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(p)), "-", "_")
}

// NormPolicy returns a storm's policy name as StormPolicies writes it
// ("" is "none"), and whether it is one of them.
func NormPolicy(p string) (string, bool) {
	n := cmp.Or(normPolicy(p), "none")
	return n, slices.Contains(StormPolicies(), n)
}

// validate returns every problem of s, each naming its key.
func (s *StormSpec) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(s.At) == "" {
		bad("at: missing: when the storm hits (+15m, 20:07:00Z, 50%%)")
	} else if _, _, err := parseStormAt(s.At); err != nil {
		bad("at: %v", err)
	}
	switch {
	case s.Restart != "":
		if !strings.HasPrefix(s.Restart, "/") || strings.ContainsAny(s.Restart, " \t\r\n") {
			bad("restart: %q is not a path on the target (/_demo/restart)", s.Restart)
		}
		if s.Fraction != 0 || s.Class != "" {
			bad("restart: the target closes its connections itself; fraction and class are for drops by surge")
		}
	case math.IsNaN(s.Fraction) || s.Fraction <= 0 || s.Fraction > 1:
		bad("fraction: %v is not in (0, 1]: the share of live WebSocket connections to drop (0.5 = half)", s.Fraction)
	}
	if p := normPolicy(s.Policy); p != "" && !slices.Contains(StormPolicies(), p) {
		bad("policy: %q: want one of %s", s.Policy, strings.Join(StormPolicies(), ", "))
	}
	if s.Base < 0 {
		bad("base: %v is negative", time.Duration(s.Base))
	}
	if s.Cap < 0 {
		bad("cap: %v is negative", time.Duration(s.Cap))
	} else if s.Cap > 0 && s.Base > s.Cap {
		bad("cap: %v is below base %v", time.Duration(s.Cap), time.Duration(s.Base))
	}
	if s.MaxAttempts < 0 {
		bad("max_attempts: %d is negative; want 0 for no limit", s.MaxAttempts)
	}
	return errors.Join(errs...)
}

// ValidateStorms returns every problem of the settings' storms, each named
// "storm[i].key: reason", or nil.
func (s *Settings) ValidateStorms() error {
	var errs []error
	for i := range s.Storm {
		if err := s.Storm[i].validate(); err != nil {
			for _, e := range unjoin(err) {
				errs = append(errs, fmt.Errorf("storm[%d].%v", i, e))
			}
		}
	}
	return errors.Join(errs...)
}

// parseStormAt parses a storm's At: "N%" (share of the window, 0–100) or a
// capture time as When reads it. It returns the share (pct true) or leaves
// the time to When.
func parseStormAt(s string) (share float64, pct bool, err error) {
	s = strings.TrimSpace(s)
	if v, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > 100 {
			return 0, false, fmt.Errorf("%q: want a share of the window from 0%% to 100%% (50%% is half-time)", s)
		}
		return f / 100, true, nil
	}
	if _, err := When(s, time.Unix(0, 0).UTC()); err != nil {
		return 0, false, err
	}
	return 0, false, nil
}

// Storm is a StormSpec resolved against a run: when it fires, as a schedule
// offset, and in which pass.
type Storm struct {
	StormSpec
	// Index is the storm's place in the `storm:` list; it keys the choice
	// of connections.
	Index int
	// Loop is the pass it fires in (0 first).
	Loop int
	// Offset is when it fires: time since the replay start, speed applied.
	Offset time.Duration
}

// Storms resolves the settings' storms against a run's window [start,
// end), speed and passes: one Storm per storm and pass, in offset order
// (ties in list order). A storm outside the window does not fire. A share
// ("50%") needs a closed window (end after start).
func (s *Settings) Storms(start, end time.Time, speed float64, loops int) ([]Storm, error) {
	if err := s.ValidateStorms(); err != nil {
		return nil, err
	}
	if speed <= 0 || math.IsNaN(speed) {
		speed = 1
	}
	loops = max(loops, 1)
	length := end.Sub(start)
	var out []Storm
	for i, spec := range s.Storm {
		share, pct, _ := parseStormAt(spec.At)
		var at time.Time
		if pct {
			if length <= 0 {
				return nil, fmt.Errorf("storm[%d].at: %q is a share of the window, whose end is not known before the run: give a time (+15m, 20:07:00Z)", i, spec.At)
			}
			at = start.Add(time.Duration(share * float64(length)))
		} else {
			at, _ = When(spec.At, start)
		}
		if at.Before(start) || (length > 0 && !at.Before(end) && !(pct && share == 1)) {
			continue
		}
		for loop := range loops {
			out = append(out, Storm{
				StormSpec: spec,
				Index:     i,
				Loop:      loop,
				Offset:    scaled(float64(loop)*float64(length)+float64(at.Sub(start)), speed),
			})
		}
	}
	slices.SortStableFunc(out, func(a, b Storm) int {
		return cmp.Or(cmp.Compare(a.Offset, b.Offset), cmp.Compare(a.Index, b.Index))
	})
	return out, nil
}

// stormNames returns the storms as the plan prints them.
func (s *Settings) stormNames() []string {
	var out []string
	for i := range s.Storm {
		out = append(out, s.Storm[i].String())
	}
	return out
}
