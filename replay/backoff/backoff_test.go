package backoff

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/surge-replay/surge/shaper"
)

// formula returns the delays the blog's formula gives for n attempts,
// computed here independently of Backoff, with rng for random_between.
func formula(k Kind, base, cap time.Duration, n int, rng *rand.Rand) []time.Duration {
	between := func(lo, hi time.Duration) time.Duration { // uniform over [lo, hi]
		if hi <= lo {
			return lo
		}
		return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
	}
	exp := func(attempt int) time.Duration {
		d := base
		for range attempt {
			d *= 2
			if d >= cap {
				return cap
			}
		}
		return min(cap, d)
	}
	var out []time.Duration
	sleep := base
	for attempt := range n {
		switch k {
		case Fixed:
			out = append(out, base)
		case Exponential:
			out = append(out, exp(attempt))
		case FullJitter:
			out = append(out, between(0, exp(attempt)))
		case EqualJitter:
			temp := exp(attempt)
			out = append(out, temp/2+between(0, temp/2))
		case DecorrelatedJitter:
			sleep = min(cap, between(base, sleep*3))
			out = append(out, sleep)
		}
	}
	return out
}

// TestRetryTimes drops a client at t0 against a target that never comes
// back and checks, on synctest's clock, that the client's reconnect
// attempts happen at the cumulative sums of its policy's formula, and that
// it gives up after MaxAttempts.
func TestRetryTimes(t *testing.T) {
	const seed = 42
	base, cap := 100*time.Millisecond, 2*time.Second
	for _, tc := range []struct {
		kind Kind
		want []time.Duration // exact times of the attempts; nil: from formula
	}{
		// none: no attempt at all.
		{None, []time.Duration{}},
		// fixed: every 100 ms.
		{Fixed, ms(100, 200, 300, 400, 500, 600, 700, 800)},
		// exponential: 100, 200, 400, 800, 1600, then capped at 2 s.
		{Exponential, ms(100, 300, 700, 1500, 3100, 5100, 7100, 9100)},
		// the jitter policies: the formula's random draws.
		{FullJitter, nil},
		{EqualJitter, nil},
		{DecorrelatedJitter, nil},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			p := Policy{Kind: tc.kind, Base: base, Cap: cap, MaxAttempts: 8}
			want := tc.want
			if want == nil {
				var at time.Duration
				for _, d := range formula(tc.kind, base, cap, 8, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))) {
					at += d
					want = append(want, at)
				}
			}
			synctest.Test(t, func(t *testing.T) {
				t0 := time.Now()
				var got []time.Duration
				b := p.New(seed)
				for {
					d, ok := b.Next()
					if !ok {
						break
					}
					time.Sleep(d)
					got = append(got, time.Since(t0)) // the attempt; the target is down
				}
				if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
					t.Errorf("%s attempts at %v; want %v", p, got, want)
				}
			})
		})
	}
}

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

// TestBounds checks every delay of many clients against its formula's
// range, and that the jitter policies spread: full jitter's mean is near
// half its bound.
func TestBounds(t *testing.T) {
	base, cap := 50*time.Millisecond, 5*time.Second
	for _, k := range Kinds()[1:] {
		p := Policy{Kind: k, Base: base, Cap: cap, MaxAttempts: 12}
		var sum, bound float64
		for seed := range uint64(500) {
			b := p.New(seed)
			prev := base
			for attempt := 0; ; attempt++ {
				d, ok := b.Next()
				if !ok {
					if attempt != 12 {
						t.Fatalf("%s seed %d gave up after %d attempts; want 12", k, seed, attempt)
					}
					break
				}
				lo, hi := d, d
				switch k {
				case Fixed:
					lo, hi = base, base
				case Exponential:
					lo, hi = p.Exp(attempt), p.Exp(attempt)
				case FullJitter:
					lo, hi = 0, p.Exp(attempt)
				case EqualJitter:
					lo, hi = p.Exp(attempt)/2, p.Exp(attempt)
				case DecorrelatedJitter:
					lo, hi = base, min(cap, prev*3)
				}
				if d < lo || d > hi {
					t.Fatalf("%s seed %d attempt %d: delay %v outside [%v, %v]", k, seed, attempt, d, lo, hi)
				}
				if k == FullJitter && attempt == 3 {
					sum += float64(d)
					bound += float64(p.Exp(attempt))
				}
				prev = d
			}
		}
		if k == FullJitter {
			if r := sum / bound; r < 0.45 || r > 0.55 {
				t.Errorf("full jitter mean / bound = %.3f over 500 clients; want about 0.5", r)
			}
		}
	}
}

// TestDeterministic: the same seed gives the same delays, another seed
// others, and Reset starts the same sequence again.
func TestDeterministic(t *testing.T) {
	p := Policy{Kind: DecorrelatedJitter, Base: time.Second, Cap: time.Minute}
	seq := func(b *Backoff) (out []time.Duration) {
		for range 10 {
			d, _ := b.Next()
			out = append(out, d)
		}
		return out
	}
	a, b := p.New(7), p.New(7)
	first := fmt.Sprint(seq(a))
	if got := fmt.Sprint(seq(b)); got != first {
		t.Errorf("seed 7 twice: %s; want %s", got, first)
	}
	if got := fmt.Sprint(seq(p.New(8))); got == first {
		t.Errorf("seeds 7 and 8 gave the same delays %s", got)
	}
	a.Reset()
	if got := fmt.Sprint(seq(a)); got != first {
		t.Errorf("after Reset: %s; want %s", got, first)
	}
}

// TestFunc: the attempt-numbered form gives Next's sequence, starts again at
// attempt 0, and gives up past MaxAttempts.
func TestFunc(t *testing.T) {
	p := Policy{Kind: FullJitter, Base: 10 * time.Millisecond, Cap: time.Second, MaxAttempts: 5}
	b := p.New(3)
	var want []time.Duration
	for {
		d, ok := b.Next()
		if !ok {
			break
		}
		want = append(want, d)
	}
	f := p.Func(3)
	for round := range 2 { // a second storm drops the client again
		for i, w := range want {
			if d, ok := f(i); !ok || d != w {
				t.Errorf("round %d: f(%d) = %v, %v; want %v, true", round, i, d, ok, w)
			}
		}
		if _, ok := f(len(want)); ok {
			t.Errorf("round %d: f(%d) did not give up after MaxAttempts %d", round, len(want), p.MaxAttempts)
		}
	}
	if d, ok := p.Func(3)(2); !ok || d != want[2] {
		t.Errorf("f(2) first = %v, %v; want %v, true (skipping ahead draws the delays in between)", d, ok, want[2])
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		p    Policy
		want string // "" when valid
	}{
		// the zero value: none.
		{Policy{}, ""},
		// dashes and case are accepted.
		{Policy{Kind: "Full-Jitter"}, ""},
		// an unknown name lists the known ones.
		{Policy{Kind: "linear"}, `policy "linear": want one of none, fixed, exponential, full_jitter, equal_jitter, decorrelated_jitter`},
		// negative base.
		{Policy{Kind: Fixed, Base: -1}, "base -1ns is negative"},
		// cap below base.
		{Policy{Kind: Exponential, Base: time.Second, Cap: time.Millisecond}, "cap 1ms is below base 1s"},
		// negative attempts.
		{Policy{Kind: Exponential, MaxAttempts: -1}, "max_attempts -1 is negative"},
	} {
		err := tc.p.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate(%+v) = %v; want nil", tc.p, err)
		case tc.want != "" && (err == nil || !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Validate(%+v) = %v; want ErrPolicy saying %q", tc.p, err, tc.want)
		}
	}
}

// TestExpOverflow: a large attempt number is the cap, not an overflow.
func TestExpOverflow(t *testing.T) {
	p := Policy{Kind: Exponential, Base: time.Hour, Cap: 1000 * time.Hour}
	for _, n := range []int{0, 9, 10, 40, 62, 63, 1000} {
		if d := p.Exp(n); d <= 0 || d > p.Cap {
			t.Errorf("Exp(%d) = %v; want in (0, %v]", n, d, p.Cap)
		}
	}
}

func ExamplePolicy() {
	p := Policy{Kind: Exponential, Base: 100 * time.Millisecond, Cap: time.Second, MaxAttempts: 6}
	b := p.New(1)
	for {
		d, ok := b.Next()
		if !ok {
			fmt.Println("given up")
			break
		}
		fmt.Println(d)
	}
	fmt.Println(p)
	// Output:
	// 100ms
	// 200ms
	// 400ms
	// 800ms
	// 1s
	// 1s
	// given up
	// exponential base=100ms cap=1s max_attempts=6
}

// TestStormPolicies: the names the shape config accepts are the policies.
func TestStormPolicies(t *testing.T) {
	var kinds []string
	for _, k := range Kinds() {
		kinds = append(kinds, string(k))
	}
	if got, want := fmt.Sprint(shaper.StormPolicies()), fmt.Sprint(kinds); got != want {
		t.Errorf("shaper.StormPolicies() = %s; want backoff.Kinds() %s", got, want)
	}
}
