package replay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// ResolveError is a failure to resolve the target's host for a region: the
// requests it leaves without an address fail with the error class
// schema.ErrDNS (Result.Detail: Reason), never as a connect, reset or
// timeout of the target.
type ResolveError struct {
	Region string // "" for the machine's resolver
	Host   string
	// Reason is short: "nxdomain", "servfail", "refused", "timeout",
	// "no address", "not allowed: 203.0.113.7", or the network's error.
	Reason string
	Err    error // the underlying error, when there is one
}

// Error returns "region eu: resolving api.example: nxdomain".
func (e *ResolveError) Error() string {
	r := e.Region
	if r == "" {
		r = "(none)"
	}
	s := "region " + r + ": resolving " + e.Host + ": " + e.Reason
	if e.Err != nil && !strings.Contains(e.Reason, e.Err.Error()) {
		s += " (" + e.Err.Error() + ")"
	}
	return s
}

func (e *ResolveError) Unwrap() error { return e.Err }

// dnsQueryTimeout bounds one query to one resolver.
const dnsQueryTimeout = 2 * time.Second

// resolver resolves the target's host for one region through the region's
// DNS servers (miekg/dns), with a cache of one answer per region: a lookup
// that finds a fresh answer costs a lock, no allocation and no query.
// Concurrent lookups that miss share one query. Every address of an answer
// must pass check (the allowlist), or the whole answer is refused. Safe for
// concurrent use.
type resolver struct {
	region  Region
	host    string // the name asked, fully qualified
	port    uint16 // the target's port, for the AddrPorts returned
	ttl     time.Duration
	timeout time.Duration // one query
	now     func() time.Time
	check   func(netip.Addr) bool // nil allows every address
	// exchange sends m to server: the network (exchangeNet), or a test's.
	exchange func(ctx context.Context, m *dns.Msg, server netip.AddrPort) (*dns.Msg, error)
	// base bounds shared queries: canceled when the run's driver closes.
	base context.Context

	mu   sync.Mutex
	ans  netip.Addr // the cached answer's address; invalid: none
	exp  time.Time  // the cached answer expires then (zero: never, with ans valid)
	call *lookupCall

	queries  atomic.Int64 // queries sent
	failures atomic.Int64 // lookups that failed
}

// lookupCall is one query in flight, shared by the lookups that wait for it.
type lookupCall struct {
	done chan struct{}
	addr netip.Addr
	err  error
}

func newResolver(base context.Context, rg Region, host string, port uint16, ttl time.Duration, check func(netip.Addr) bool) *resolver {
	r := &resolver{region: rg, host: dns.Fqdn(host), port: port, ttl: ttl, timeout: dnsQueryTimeout,
		now: time.Now, check: check, base: base}
	r.exchange = r.exchangeNet
	return r
}

// cached returns the cached address when it is fresh.
func (r *resolver) cached() (netip.AddrPort, bool) {
	r.mu.Lock()
	a, ok := r.freshLocked()
	r.mu.Unlock()
	return netip.AddrPortFrom(a, r.port), ok
}

func (r *resolver) freshLocked() (netip.Addr, bool) {
	if !r.ans.IsValid() {
		return netip.Addr{}, false
	}
	if r.exp.IsZero() || r.now().Before(r.exp) {
		return r.ans, true
	}
	return netip.Addr{}, false
}

// lookup returns the target's address for the region: the cached one when
// fresh, else a new answer (one query shared by concurrent lookups). ctx
// bounds the wait, not the shared query.
func (r *resolver) lookup(ctx context.Context) (netip.AddrPort, error) {
	r.mu.Lock()
	if a, ok := r.freshLocked(); ok {
		r.mu.Unlock()
		return netip.AddrPortFrom(a, r.port), nil
	}
	c := r.call
	if c == nil {
		c = &lookupCall{done: make(chan struct{})}
		r.call = c
		go r.fill(c)
	}
	r.mu.Unlock()
	select {
	case <-c.done:
		if c.err != nil {
			return netip.AddrPort{}, c.err
		}
		return netip.AddrPortFrom(c.addr, r.port), nil
	case <-ctx.Done():
		return netip.AddrPort{}, &ResolveError{Region: r.region.Name, Host: r.hostName(), Reason: "timeout", Err: ctx.Err()}
	}
}

func (r *resolver) hostName() string { return strings.TrimSuffix(r.host, ".") }

// fill runs c's query and caches its answer for as long as the TTL mode
// says.
func (r *resolver) fill(c *lookupCall) {
	addr, ttl, err := r.resolve(r.base)
	if err != nil {
		r.failures.Add(1)
	}
	r.mu.Lock()
	c.addr, c.err = addr, err
	r.call = nil
	if err == nil {
		switch {
		case r.ttl == DNSTTLForever:
			r.ans, r.exp = addr, time.Time{}
		case r.ttl == DNSTTLNone:
		case r.ttl > 0:
			r.ans, r.exp = addr, r.now().Add(r.ttl)
		case ttl > 0: // the records' TTL
			r.ans, r.exp = addr, r.now().Add(ttl)
		}
	}
	r.mu.Unlock()
	close(c.done)
}

// resolve asks the region's resolvers for the host's addresses: A, then
// AAAA when there is no A (only the family of Source when it is set). It
// returns the first address and the answer's smallest TTL. A resolver that
// fails (network error, SERVFAIL, REFUSED) passes the question to the
// next; NXDOMAIN is final.
func (r *resolver) resolve(ctx context.Context) (netip.Addr, time.Duration, error) {
	types := []uint16{dns.TypeA, dns.TypeAAAA}
	if src := r.region.Source; src.IsValid() {
		types = types[:1]
		if !src.Is4() {
			types[0] = dns.TypeAAAA
		}
	}
	fail := func(reason string, err error) (netip.Addr, time.Duration, error) {
		return netip.Addr{}, 0, &ResolveError{Region: r.region.Name, Host: r.hostName(), Reason: reason, Err: err}
	}
	var lastReason string
	var lastErr error
	for _, qt := range types {
		empty := false
		for _, server := range r.region.Resolvers {
			in, err := r.ask(ctx, qt, server)
			if err != nil {
				lastReason, lastErr = netReason(err), err
				continue
			}
			switch in.Rcode {
			case dns.RcodeSuccess:
			case dns.RcodeNameError:
				return fail("nxdomain", nil)
			default:
				lastReason, lastErr = strings.ToLower(dns.RcodeToString[in.Rcode]), nil
				if lastReason == "" {
					lastReason = fmt.Sprintf("rcode %d", in.Rcode)
				}
				continue
			}
			addrs, ttl := answerAddrs(in, qt)
			if len(addrs) == 0 {
				empty, lastReason, lastErr = true, "", nil
				break // NODATA: ask for the other family
			}
			for _, a := range addrs {
				if r.check != nil && !r.check(a) {
					return fail("not allowed: "+a.String(), ErrNotAllowed)
				}
			}
			return addrs[0], ttl, nil
		}
		if !empty && lastReason != "" {
			return fail(lastReason, lastErr)
		}
	}
	if lastReason != "" {
		return fail(lastReason, lastErr)
	}
	return fail("no address", nil)
}

// ask sends one query of type qt for the host to server, with the
// region's client subnet.
func (r *resolver) ask(ctx context.Context, qt uint16, server netip.AddrPort) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(r.host, qt)
	if ecs := r.region.ECS; ecs.IsValid() {
		opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		opt.SetUDPSize(dns.DefaultMsgSize)
		family := uint16(1)
		if !ecs.Addr().Is4() {
			family = 2
		}
		opt.Option = append(opt.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family,
			SourceNetmask: uint8(ecs.Bits()), Address: ecs.Addr().AsSlice()})
		m.Extra = append(m.Extra, opt)
	}
	qctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	r.queries.Add(1)
	return r.exchange(qctx, m, server)
}

// exchangeNet sends m over UDP from the region's source address, and again
// over TCP when the answer is truncated.
func (r *resolver) exchangeNet(ctx context.Context, m *dns.Msg, server netip.AddrPort) (*dns.Msg, error) {
	c := &dns.Client{Net: "udp", Timeout: r.timeout}
	src := r.region.Source
	if src.IsValid() {
		c.Dialer = &net.Dialer{Timeout: r.timeout, LocalAddr: &net.UDPAddr{IP: src.AsSlice()}}
	}
	in, _, err := c.ExchangeContext(ctx, m, server.String())
	if err == nil && in.Truncated {
		c.Net = "tcp"
		if src.IsValid() {
			c.Dialer = &net.Dialer{Timeout: r.timeout, LocalAddr: &net.TCPAddr{IP: src.AsSlice()}}
		}
		in, _, err = c.ExchangeContext(ctx, m, server.String())
	}
	return in, err
}

// answerAddrs returns the addresses of type qt in in's answer (a CNAME
// chain is followed by taking every record of the type) and the smallest
// TTL of the answer's records.
func answerAddrs(in *dns.Msg, qt uint16) ([]netip.Addr, time.Duration) {
	var out []netip.Addr
	minTTL := uint32(0)
	first := true
	for _, rr := range in.Answer {
		var ip net.IP
		switch v := rr.(type) {
		case *dns.A:
			if qt == dns.TypeA {
				ip = v.A
			}
		case *dns.AAAA:
			if qt == dns.TypeAAAA {
				ip = v.AAAA
			}
		}
		if t := rr.Header().Ttl; first || t < minTTL {
			minTTL, first = t, false
		}
		if a, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, a.Unmap())
		}
	}
	return out, time.Duration(minTTL) * time.Second
}

// netReason is the short reason of a failed query.
func netReason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return errDetailNet(err)
}
