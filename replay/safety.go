package replay

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// ErrNotAllowed is returned (wrapped, naming the target) by Run before
// anything is sent when the target is not on the allowlist.
var ErrNotAllowed = fmt.Errorf("target not on the allowlist")

// CheckTarget reports whether every address target resolves to is allowed.
// allow lists host names, IP addresses and CIDR prefixes; empty allows
// loopback only (127.0.0.0/8, ::1). A name on the list allows that name
// whatever it resolves to.
func CheckTarget(ctx context.Context, target *url.URL, allow []string) error {
	host := target.Hostname()
	if host == "" {
		return fmt.Errorf("target %q has no host", target)
	}
	byName, prefixes := allowList(host, allow)
	if byName {
		return nil
	}
	addrs, err := resolve(ctx, host)
	if err != nil {
		return fmt.Errorf("target %s: %w", host, err)
	}
	for _, ip := range addrs {
		if !allowed(ip, prefixes) {
			what := "loopback only by default; allow it with targets.allow in the config or --allow"
			if len(allow) > 0 {
				what = "allowed: " + strings.Join(allow, ", ")
			}
			return fmt.Errorf("%w: %s resolves to %s (%s)", ErrNotAllowed, host, ip, what)
		}
	}
	return nil
}

// allowList reads an allowlist for host: byName when host itself is on
// it (any address allowed), else the IP prefixes it lists.
func allowList(host string, allow []string) (byName bool, prefixes []netip.Prefix) {
	for _, a := range allow {
		if strings.EqualFold(a, host) {
			return true, nil
		}
		if p, err := netip.ParsePrefix(a); err == nil {
			prefixes = append(prefixes, p)
		} else if ip, err := netip.ParseAddr(a); err == nil {
			prefixes = append(prefixes, netip.PrefixFrom(ip, ip.BitLen()))
		}
	}
	return false, prefixes
}

func resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	return ips, nil
}

func allowed(ip netip.Addr, prefixes []netip.Prefix) bool {
	ip = ip.Unmap()
	if len(prefixes) == 0 {
		return ip.IsLoopback()
	}
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// bucket is a token bucket rate cap: rate tokens per second, up to burst.
// Time is a parameter, so it is a pure value to test.
type bucket struct {
	rate, burst float64
	tokens      float64
	last        time.Duration
}

// bucketPeriod is the period the cap is stated over: --max-rps R allows R
// requests in any second, so the burst is one second's worth. A schedule
// that never has more than R requests in a second (evenly spread, or
// bunched at one instant per second as one-second-resolution logs are) is
// never dropped.
const bucketPeriod = time.Second

func newBucket(rate float64) *bucket {
	burst := max(rate*bucketPeriod.Seconds(), 1)
	return &bucket{rate: rate, burst: burst, tokens: burst}
}

// allow takes a token at now, if there is one. Times before the last one
// count as the last (closed-loop runners share the bucket).
func (b *bucket) allow(now time.Duration) bool {
	now = max(now, b.last)
	b.tokens = min(b.burst, b.tokens+(now-b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1-1e-9 { // float steps must not lose the last token of a period
		return false
	}
	b.tokens = max(b.tokens-1, 0)
	return true
}

// AbortRule stops a run when the error rate over the last Window is above
// Rate, once at least MinRequests completed in that window. Errors are
// failed requests and 5xx responses.
type AbortRule struct {
	Rate        float64       // fraction, e.g. 0.5
	Window      time.Duration // zero means 10 s
	MinRequests int           // zero means 20
}

func (r *AbortRule) window() time.Duration {
	if r.Window <= 0 {
		return 10 * time.Second
	}
	return r.Window
}

func (r *AbortRule) minRequests() int {
	if r.MinRequests <= 0 {
		return 20
	}
	return r.MinRequests
}

// String describes the rule.
func (r *AbortRule) String() string {
	return fmt.Sprintf("error rate > %.0f%% over %s", 100*r.Rate, r.window())
}

// abortWatch tracks completions per second to apply an AbortRule.
type abortWatch struct {
	rule         *AbortRule
	total, errs  []int // ring of per-second counts
	sec          int64 // the second the ring's head is
	sumT, sumErr int
}

func newAbortWatch(rule *AbortRule) *abortWatch {
	n := int(rule.window() / time.Second)
	n = max(n, 1)
	return &abortWatch{rule: rule, total: make([]int, n), errs: make([]int, n), sec: -1}
}

// add counts a completion at now and reports whether the rule trips.
func (w *abortWatch) add(now time.Duration, failed bool) bool {
	s := int64(now / time.Second)
	n := int64(len(w.total))
	if w.sec < 0 {
		w.sec = s
	}
	s = max(s, w.sec) // completions arrive nearly in order; late ones count now
	for ; w.sec < s; w.sec++ {
		i := (w.sec + 1) % n
		w.sumT -= w.total[i]
		w.sumErr -= w.errs[i]
		w.total[i], w.errs[i] = 0, 0
	}
	i := s % n
	w.total[i]++
	w.sumT++
	if failed {
		w.errs[i]++
		w.sumErr++
	}
	return w.sumT >= w.rule.minRequests() && float64(w.sumErr) > w.rule.Rate*float64(w.sumT)
}

// Redact returns target as text safe to print or store: the password of its
// user info and the values of query parameters that name a secret (token,
// key, secret, password, sig, auth) are replaced by "xxxxx". Nil gives "".
func Redact(target *url.URL) string {
	if target == nil {
		return ""
	}
	u := *target
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, kv := range parts {
			if k, _, ok := strings.Cut(kv, "="); ok && secretParam(k) {
				parts[i] = k + "=xxxxx"
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return u.Redacted()
}

func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"token", "key", "secret", "pass", "sig", "auth"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}
