// Package backoff owns the reconnect policies of WebSocket clients in a
// reconnect storm: how long a dropped client waits before each attempt to
// connect again, and when it gives up.
//
// The policies are those of Marc Brooker, "Exponential Backoff And Jitter",
// AWS Architecture Blog, 4 March 2015
// (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/),
// with the blog's names and formulas, where attempt counts from 0 (the
// first reconnect) and random_between(a, b) is uniform over [a, b]:
//
//	none                 no reconnect: the client gives up at once
//	fixed                sleep = base
//	exponential          sleep = min(cap, base * 2 ** attempt)
//	full_jitter          sleep = random_between(0, min(cap, base * 2 ** attempt))
//	equal_jitter         temp = min(cap, base * 2 ** attempt)
//	                     sleep = temp / 2 + random_between(0, temp / 2)
//	decorrelated_jitter  sleep = min(cap, random_between(base, sleep * 3)),
//	                     sleep starting at base
//
// Fixed is not in the blog; it is the constant interval many clients use.
// Every random draw comes from a PCG generator seeded by the caller, so the
// same seed gives the same delays: a storm replays the same way twice.
package backoff

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Kind names a reconnect policy; the constants are the written names.
type Kind string

// The policies (see the package comment for their formulas).
const (
	None               Kind = "none"
	Fixed              Kind = "fixed"
	Exponential        Kind = "exponential"
	FullJitter         Kind = "full_jitter"
	EqualJitter        Kind = "equal_jitter"
	DecorrelatedJitter Kind = "decorrelated_jitter"
)

// Kinds returns every policy name, in the order of the package comment.
func Kinds() []Kind {
	return []Kind{None, Fixed, Exponential, FullJitter, EqualJitter, DecorrelatedJitter}
}

// Defaults of Policy.
const (
	DefaultBase = 500 * time.Millisecond
	DefaultCap  = 30 * time.Second
)

// ErrPolicy is wrapped by every error of Policy.Validate and ParseKind.
var ErrPolicy = errors.New("backoff: bad policy")

// Policy is a reconnect policy. The zero value is None (no reconnect).
//
//	p := backoff.Policy{Kind: backoff.DecorrelatedJitter, Base: time.Second, Cap: time.Minute, MaxAttempts: 8}
//	b := p.New(seed)
//	for {
//		d, ok := b.Next()
//		if !ok { break } // given up
//		time.Sleep(d)
//		if connect() == nil { break }
//	}
type Policy struct {
	// Kind is the policy; empty means None.
	Kind Kind `json:"policy,omitempty"`
	// Base is the first (and, for Fixed, every) delay. Zero means
	// DefaultBase; negative is invalid.
	Base time.Duration `json:"base,omitempty"`
	// Cap bounds every delay. Zero means DefaultCap (or Base if larger);
	// negative, or below Base, is invalid.
	Cap time.Duration `json:"cap,omitempty"`
	// MaxAttempts is how many reconnect attempts a client makes before it
	// gives up. Zero means no limit (it tries until the run ends);
	// negative is invalid.
	MaxAttempts int `json:"max_attempts,omitempty"`
}

// ParseKind returns the policy named s (case and "-" / "_" insensitive:
// "full-jitter" is FullJitter); "" is None.
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_"))
	if k == "" {
		return None, nil
	}
	for _, known := range Kinds() {
		if k == known {
			return k, nil
		}
	}
	names := make([]string, 0, 6)
	for _, known := range Kinds() {
		names = append(names, string(known))
	}
	return "", fmt.Errorf("%w: policy %q: want one of %s", ErrPolicy, s, strings.Join(names, ", "))
}

// Validate returns what is wrong with p (wrapping ErrPolicy), or nil.
func (p Policy) Validate() error {
	var errs []error
	if _, err := ParseKind(string(p.Kind)); err != nil {
		errs = append(errs, err)
	}
	if p.Base < 0 {
		errs = append(errs, fmt.Errorf("%w: base %v is negative", ErrPolicy, p.Base))
	}
	if p.Cap < 0 {
		errs = append(errs, fmt.Errorf("%w: cap %v is negative", ErrPolicy, p.Cap))
	} else if p.Cap > 0 && p.Cap < p.base() {
		errs = append(errs, fmt.Errorf("%w: cap %v is below base %v", ErrPolicy, p.Cap, p.base()))
	}
	if p.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("%w: max_attempts %d is negative; want 0 for no limit", ErrPolicy, p.MaxAttempts))
	}
	return errors.Join(errs...)
}

// String returns "decorrelated_jitter base=1s cap=1m0s max_attempts=8".
func (p Policy) String() string {
	k, _ := ParseKind(string(p.Kind))
	if k == None {
		return string(None)
	}
	s := fmt.Sprintf("%s base=%v", k, p.base())
	if k != Fixed {
		s += fmt.Sprintf(" cap=%v", p.cap())
	}
	if p.MaxAttempts > 0 {
		s += fmt.Sprintf(" max_attempts=%d", p.MaxAttempts)
	}
	return s
}

func (p Policy) kind() Kind {
	k, err := ParseKind(string(p.Kind))
	if err != nil {
		return None
	}
	return k
}

func (p Policy) base() time.Duration {
	if p.Base == 0 {
		return DefaultBase
	}
	return p.Base
}

func (p Policy) cap() time.Duration {
	if p.Cap == 0 {
		return max(DefaultCap, p.base())
	}
	return p.Cap
}

// Exp returns min(cap, base * 2 ** attempt) for attempt ≥ 0, without
// overflow: the exponential policy's delay and the jitter policies' bound.
func (p Policy) Exp(attempt int) time.Duration {
	b, c := p.base(), p.cap()
	if attempt < 0 {
		attempt = 0
	}
	if attempt >= 62 || b > c>>attempt {
		return c
	}
	return min(c, b<<attempt)
}

// Backoff is one client's sequence of delays under a Policy. It is not safe
// for concurrent use: each client has its own.
type Backoff struct {
	p       Policy
	kind    Kind
	rng     *rand.Rand
	seed    uint64
	attempt int           // attempts made (delays returned)
	sleep   time.Duration // decorrelated jitter's previous sleep
}

// New returns the delays of one client, drawn from a PCG generator seeded
// with seed (the same seed, the same delays). An invalid p behaves as
// None; check it with Validate first.
func (p Policy) New(seed uint64) *Backoff {
	b := &Backoff{p: p, kind: p.kind(), seed: seed}
	b.Reset()
	return b
}

// Reset starts the sequence again, as after a successful reconnect: the
// next delay is the first one, with the same random draws as after New.
func (b *Backoff) Reset() {
	b.rng = rand.New(rand.NewPCG(b.seed, b.seed^0x9e3779b97f4a7c15))
	b.attempt = 0
	b.sleep = b.p.base()
}

// Attempt returns how many delays Next has returned since New or Reset.
func (b *Backoff) Attempt() int { return b.attempt }

// Next returns the delay before the next reconnect attempt, and false when
// the client gives up instead (policy None, or MaxAttempts reached).
func (b *Backoff) Next() (time.Duration, bool) {
	if b.kind == None || (b.p.MaxAttempts > 0 && b.attempt >= b.p.MaxAttempts) {
		return 0, false
	}
	n := b.attempt
	b.attempt++
	switch b.kind {
	case Fixed:
		return b.p.base(), true
	case Exponential:
		return b.p.Exp(n), true
	case FullJitter:
		return b.between(0, b.p.Exp(n)), true
	case EqualJitter:
		temp := b.p.Exp(n)
		return temp/2 + b.between(0, temp/2), true
	case DecorrelatedJitter:
		hi := time.Duration(math.MaxInt64)
		if b.sleep <= math.MaxInt64/3 {
			hi = b.sleep * 3
		}
		b.sleep = min(b.p.cap(), b.between(b.p.base(), hi))
		return b.sleep, true
	}
	return 0, false
}

// between returns a uniform duration in [lo, hi] (hi ≥ lo).
func (b *Backoff) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(b.rng.Int64N(int64(hi-lo)+1))
}

// Func returns the delays of one client seeded with seed as a function of
// the attempt number (0 for the first reconnect), the form a reconnect path
// takes: d is the delay before that attempt, ok false means give up. Calls
// are expected in order (0, 1, 2, …); a call for attempt 0 starts the
// sequence again (a client that reconnected and was dropped again), and a
// call that skips ahead draws the delays in between. Not safe for
// concurrent use.
func (p Policy) Func(seed uint64) func(attempt int) (time.Duration, bool) {
	b := p.New(seed)
	return func(attempt int) (time.Duration, bool) {
		if attempt < b.Attempt() || attempt <= 0 {
			b.Reset()
		}
		for b.Attempt() < attempt {
			if _, ok := b.Next(); !ok {
				return 0, false
			}
		}
		return b.Next()
	}
}
