package replay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DefaultRegion is the name of the Region that sessions of no listed
// region (or of none) use, when Config.Regions has one of that name.
const DefaultRegion = "default"

// regionNet is the way one region's connections reach the target: its
// resolver (and cache), or, for sessions of no listed region without a
// "default" one, the address the machine's resolver gave at the start.
type regionNet struct {
	name      string
	res       *resolver      // nil: static
	static    netip.AddrPort // with res nil
	staticErr error          // with res nil: the machine could not resolve the target
	source    netip.Addr     // local address of connections; invalid: any
}

// cached returns the address a new connection goes to without waiting:
// ok is false when a lookup is needed (or failed: then addr says why).
func (n *regionNet) cached() (netip.AddrPort, bool) {
	if n.res == nil {
		return n.static, n.staticErr == nil
	}
	return n.res.cached()
}

// addr returns the address a new connection goes to, resolving it when
// the region's cache has none fresh. Its errors are *ResolveError.
func (n *regionNet) addr(ctx context.Context) (netip.AddrPort, error) {
	if n.res == nil {
		return n.static, n.staticErr
	}
	return n.res.lookup(ctx)
}

// dial opens a TCP connection to the region's address for the target, from
// its source address (the net/http driver's DialContext).
func (n *regionNet) dial(ctx context.Context, timeout time.Duration) (net.Conn, error) {
	ap, err := n.addr(ctx)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: timeout}
	if n.source.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: n.source.AsSlice()}
	}
	return d.DialContext(ctx, "tcp", ap.String())
}

// regionNets are a run's regions (Config.Regions): each session's region
// names its regionNet; sessions of other regions share other.
type regionNets struct {
	byName map[string]*regionNet
	other  *regionNet
	cancel context.CancelFunc // ends lookups in flight (close)
}

// of returns the regionNet of a session of region name.
func (rs *regionNets) of(name string) *regionNet {
	if n, ok := rs.byName[name]; ok {
		return n
	}
	return rs.other
}

// close ends the lookups in flight.
func (rs *regionNets) close() {
	if rs != nil {
		rs.cancel()
	}
}

// DNSStats are one region's DNS lookups in a run.
type DNSStats struct {
	Queries  int64 // queries sent to the region's resolvers
	Failures int64 // lookups that failed (their requests: error class dns)
}

// stats returns the DNS counts of every region with a resolver.
func (rs *regionNets) stats() map[string]DNSStats {
	if rs == nil {
		return nil
	}
	out := map[string]DNSStats{}
	for name, n := range rs.byName {
		if n.res != nil {
			out[name] = DNSStats{Queries: n.res.queries.Load(), Failures: n.res.failures.Load()}
		}
	}
	return out
}

// targetPort is the target's port: given, or the scheme's.
func targetPort(c *Config) uint16 {
	if p := c.Target.Port(); p != "" {
		n, _ := strconv.ParseUint(p, 10, 16)
		return uint16(n)
	}
	if c.Target.Scheme == "https" {
		return 443
	}
	return 80
}

// newRegionNets makes the run's regions, or nil without Config.Regions.
// It is the safety check of a run with regions, in place of CheckTarget:
// every resolver must be loopback or on the allowlist (its IP prefixes),
// and each region resolves the target once before anything is sent, every
// address of its answer allowed (as later answers must be, or their
// requests fail as dns errors). Sessions of no listed region use the
// region named DefaultRegion, or else the machine's resolver as without
// regions: its answer must be allowed too, but may be missing (their
// requests then fail as dns errors).
func newRegionNets(ctx context.Context, c *Config) (*regionNets, error) {
	if len(c.Regions) == 0 {
		return nil, nil
	}
	host := c.Target.Hostname()
	byName, prefixes := allowList(host, c.Allow)
	check := func(a netip.Addr) bool { return byName || allowed(a, prefixes) }
	_, ipPrefixes := allowList("", c.Allow)
	port := targetPort(c)
	base, cancel := context.WithCancel(context.Background())
	rs := &regionNets{byName: map[string]*regionNet{}, cancel: cancel}
	var errs []error
	for _, rg := range c.Regions {
		if _, dup := rs.byName[rg.Name]; dup {
			errs = append(errs, fmt.Errorf("regions: %s: listed twice", rg.Name))
			continue
		}
		bad := false
		for _, s := range rg.Resolvers {
			if !allowed(s.Addr(), ipPrefixes) {
				errs = append(errs, resolverNotAllowed(fmt.Sprintf("regions: %s: resolver %s is not on the allowlist (loopback only by default; allow it with targets.allow or --allow)", rg.Name, s)))
				bad = true
			}
		}
		if len(rg.Resolvers) == 0 {
			errs = append(errs, fmt.Errorf("regions: %s: no resolvers", rg.Name))
			bad = true
		}
		if bad {
			continue
		}
		n := &regionNet{name: rg.Name, source: rg.Source}
		if ip, err := netip.ParseAddr(host); err == nil {
			// An IP target is not resolved: the region keeps its own
			// connections and source address.
			n.static = netip.AddrPortFrom(ip.Unmap(), port)
			if !check(ip) {
				errs = append(errs, fmt.Errorf("%w: %s", ErrNotAllowed, host))
			}
		} else {
			n.res = newResolver(base, rg, host, port, c.DNSTTL, check)
			if c.testExchange != nil {
				n.res.exchange = c.testExchange
			}
			if _, err := n.res.lookup(ctx); err != nil {
				hint := ""
				if errors.Is(err, ErrNotAllowed) {
					hint = " (loopback only by default; allow it with targets.allow or --allow)"
				}
				errs = append(errs, fmt.Errorf("regions: %w%s", err, hint))
			}
		}
		rs.byName[rg.Name] = n
	}
	if n, ok := rs.byName[DefaultRegion]; ok {
		rs.other = n
	} else {
		rs.other = &regionNet{}
		addrs, err := resolve(ctx, host)
		switch {
		case err != nil:
			rs.other.staticErr = &ResolveError{Host: host, Reason: "no region and the machine's resolver failed: " + errDetailNet(err), Err: err}
		case !allAllowed(addrs, check):
			errs = append(errs, fmt.Errorf("%w: %s resolves to %s through the machine's resolver (used by sessions of no listed region)", ErrNotAllowed, host, joinAddrs(addrs)))
		default:
			rs.other.static = netip.AddrPortFrom(addrs[0].Unmap(), port)
		}
	}
	if len(errs) > 0 {
		cancel()
		return nil, errors.Join(errs...)
	}
	return rs, nil
}

func allAllowed(addrs []netip.Addr, check func(netip.Addr) bool) bool {
	for _, a := range addrs {
		if !check(a) {
			return false
		}
	}
	return true
}

func joinAddrs(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// CheckRegions makes the checks Run makes before anything is sent: with
// Config.Regions, every resolver allowed and each region's answer for the
// target allowed (DNS queries go to the regions' resolvers; nothing goes
// to the target); without, CheckTarget.
func CheckRegions(ctx context.Context, c *Config) error {
	if len(c.Regions) == 0 {
		return CheckTarget(ctx, c.Target, c.Allow)
	}
	rs, err := newRegionNets(ctx, c)
	if err != nil {
		return err
	}
	rs.close()
	return nil
}

// validateRegions returns what is wrong with Config.Regions and DNSTTL.
func (c *Config) validateRegions() []error {
	var errs []error
	if c.DNSTTL < 0 && c.DNSTTL != DNSTTLNone {
		errs = append(errs, fmt.Errorf("dns ttl: negative (%v); want DNSTTLNone, DNSTTLRecord, DNSTTLForever or a positive duration", c.DNSTTL))
	}
	seen := map[string]bool{}
	for i, rg := range c.Regions {
		switch {
		case rg.Name == "":
			errs = append(errs, fmt.Errorf("regions[%d]: no name", i))
		case seen[rg.Name]:
			errs = append(errs, fmt.Errorf("regions: %s: listed twice", rg.Name))
		case len(rg.Resolvers) == 0:
			errs = append(errs, fmt.Errorf("regions: %s: no resolvers", rg.Name))
		}
		seen[rg.Name] = true
	}
	return errs
}

// dnsExchange sends a query to a resolver: the network, or a test's.
type dnsExchange = func(ctx context.Context, m *dns.Msg, server netip.AddrPort) (*dns.Msg, error)

// resolverNotAllowed is a resolver off the allowlist: errors.Is(err,
// ErrNotAllowed) holds, but its text names the resolver alone (the target
// is not at fault, and nothing was sent to it).
type resolverNotAllowed string

func (e resolverNotAllowed) Error() string { return string(e) }

// Is makes errors.Is(e, ErrNotAllowed) true.
func (e resolverNotAllowed) Is(target error) bool { return target == ErrNotAllowed }
