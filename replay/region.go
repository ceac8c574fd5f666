package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/surge-replay/surge/internal/suggest"
)

// Region is how the virtual sessions of one region reach the target: the
// DNS servers that resolve the target's host for them, the local address
// their queries and connections leave from, and the client subnet their
// queries announce. A region's sessions use connections of their own,
// never another region's.
//
// The `regions:` block of a config file is a map of them (DecodeRegions):
//
//	regions:
//	  eu: {resolvers: ["127.0.0.1:5301"], source: 127.0.0.5, ecs: 198.51.100.0/24}
//	  us: {resolvers: ["127.0.0.1:5302", "127.0.0.1:5303"]}
type Region struct {
	// Name is the region as results carry it (schema.Result.Region).
	Name string
	// Resolvers are the DNS servers asked, in order: the next one when one
	// fails or times out (as resolv.conf's). At least one.
	Resolvers []netip.AddrPort
	// Source, when valid, is the local address the region's DNS queries
	// and its connections to the target are made from (an egress address
	// of the region). The zero Addr lets the system choose.
	Source netip.Addr
	// ECS, when valid, is sent in every query as the EDNS Client Subnet
	// option (RFC 7871), so a geo-aware resolver answers as it would for
	// clients of that subnet. Its address is masked to its bits.
	ECS netip.Prefix
}

// regionSpec is the written form of a Region.
type regionSpec struct {
	Resolvers resolverList `json:"resolvers"`
	Source    string       `json:"source,omitempty"`
	ECS       string       `json:"ecs,omitempty"`
}

// resolverList is one "IP:port" or a list of them.
type resolverList []string

func (l *resolverList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = resolverList{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New(`resolvers: want an address or a list of addresses ("127.0.0.1:5353")`)
	}
	*l = list
	return nil
}

// DecodeRegions decodes the `regions:` block of a config (as JSON: the YAML
// turned into JSON) into Regions, sorted by name. Each region is an object
// {resolvers, source, ecs}, or just its resolvers (one address or a list).
// Resolvers are IP:port (port 53 when left out; names are refused: a
// resolver is not itself resolved); source is an IP; ecs a prefix
// ("198.51.100.0/24"). Unknown keys are refused. The error lists every
// problem, each naming its region ("regions: eu: resolvers[1]: ...").
func DecodeRegions(data []byte) ([]Region, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("regions: want a map of region name to {resolvers, source, ecs}: %v", err)
	}
	var out []Region
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		rg, rerrs := decodeRegion(name, raw[name])
		for _, e := range rerrs {
			errs = append(errs, fmt.Errorf("regions: %s: %w", quoteName(name), e))
		}
		if len(rerrs) == 0 {
			out = append(out, rg)
		}
	}
	return out, errors.Join(errs...)
}

// quoteName prints a region name as written, quoted when it is empty or
// has spaces or control characters.
func quoteName(name string) string {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Sprintf("%q", name)
	}
	return name
}

func decodeRegion(name string, msg json.RawMessage) (Region, []error) {
	var errs []error
	rg := Region{Name: name}
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		errs = append(errs, errors.New("want a region name without spaces (eu-west)"))
	}
	var spec regionSpec
	trimmed := bytes.TrimSpace(msg)
	if len(trimmed) > 0 && (trimmed[0] == '"' || trimmed[0] == '[') {
		if err := json.Unmarshal(trimmed, &spec.Resolvers); err != nil {
			return rg, append(errs, err)
		}
	} else {
		if bad := unknownRegionKeys(trimmed); len(bad) > 0 {
			return rg, append(errs, bad...)
		}
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&spec); err != nil {
			return rg, append(errs, fmt.Errorf("want {resolvers, source, ecs}: %v", err))
		}
	}
	if len(spec.Resolvers) == 0 {
		errs = append(errs, errors.New(`resolvers: none; want one DNS server at least ("127.0.0.1:5353")`))
	}
	for i, s := range spec.Resolvers {
		ap, err := parseResolver(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("resolvers[%d]: %w", i, err))
			continue
		}
		rg.Resolvers = append(rg.Resolvers, ap)
	}
	if s := strings.TrimSpace(spec.Source); s != "" {
		ip, err := netip.ParseAddr(s)
		if err != nil || ip.Zone() != "" {
			errs = append(errs, fmt.Errorf("source %q: want a local IP address (127.0.0.5)", spec.Source))
		} else {
			rg.Source = ip.Unmap()
			for i, r := range rg.Resolvers {
				if r.Addr().Is4() != rg.Source.Is4() {
					errs = append(errs, fmt.Errorf("source %s and resolvers[%d] %s: not the same address family", rg.Source, i, r))
				}
			}
		}
	}
	if s := strings.TrimSpace(spec.ECS); s != "" {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("ecs %q: want a client subnet prefix (198.51.100.0/24, 2001:db8::/56)", spec.ECS))
		} else {
			bits := p.Bits()
			if p.Addr().Is4In6() {
				bits = max(bits-96, 0) // ::ffff:10.0.0.0/120 is 10.0.0.0/24
			}
			rg.ECS = netip.PrefixFrom(p.Addr().Unmap(), bits).Masked()
		}
	}
	return rg, errs
}

// parseResolver parses "IP:port", "[IPv6]:port" or a bare IP (port 53).
func parseResolver(s string) (netip.AddrPort, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 || ap.Addr().Zone() != "" {
			return netip.AddrPort{}, fmt.Errorf("%q: want IP:port with a port above 0", s)
		}
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil && ip.Zone() == "" {
		return netip.AddrPortFrom(ip.Unmap(), 53), nil
	}
	return netip.AddrPort{}, fmt.Errorf("%q: want a resolver's IP:port (127.0.0.1:5353); names are not resolved", s)
}

// TTL modes of Config.DNSTTL besides a fixed duration.
const (
	// DNSTTLRecord caches an answer for its records' TTL (the default).
	DNSTTLRecord time.Duration = 0
	// DNSTTLNone never caches: every new connection asks the resolver.
	DNSTTLNone time.Duration = -1
	// DNSTTLForever keeps the first answer for the whole run.
	DNSTTLForever time.Duration = math.MaxInt64
)

// ParseDNSTTL parses the `dns.ttl` setting, as k6's dns ttl: "" or "ttl"
// honour the records' TTLs (DNSTTLRecord), "inf" caches forever
// (DNSTTLForever), "0" never caches (DNSTTLNone), a positive Go duration
// ("5s") caches every answer that long, whatever its TTL.
func ParseDNSTTL(s string) (time.Duration, error) {
	switch strings.TrimSpace(s) {
	case "", "ttl":
		return DNSTTLRecord, nil
	case "inf":
		return DNSTTLForever, nil
	case "0":
		return DNSTTLNone, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want ttl (the records' TTLs), inf (cache for the run), 0 (never cache) or a duration (5s)", s)
	}
	return d, nil
}

// FormatDNSTTL writes a Config.DNSTTL as ParseDNSTTL reads it.
func FormatDNSTTL(d time.Duration) string {
	switch d {
	case DNSTTLRecord:
		return "ttl"
	case DNSTTLForever:
		return "inf"
	case DNSTTLNone:
		return "0"
	}
	return d.String()
}

// String returns "eu: 127.0.0.1:5301, 127.0.0.1:5302 from 127.0.0.5, ecs
// 198.51.100.0/24".
func (r Region) String() string {
	var b strings.Builder
	b.WriteString(r.Name + ":")
	for i, s := range r.Resolvers {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(" " + s.String())
	}
	if r.Source.IsValid() {
		b.WriteString(" from " + r.Source.String())
	}
	if r.ECS.IsValid() {
		b.WriteString(", ecs " + r.ECS.String())
	}
	return b.String()
}

// regionKeys are the keys of a region's object.
var regionKeys = []string{"resolvers", "source", "ecs"}

// unknownRegionKeys returns an error for each key of a region's object that
// is not one of regionKeys, with the nearest one when it looks like a typo
// ("resolver": did you mean resolvers?). Anything but an object gives none
// (the decoder reports it).
func unknownRegionKeys(obj []byte) []error {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return nil
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if slices.Contains(regionKeys, k) {
			continue
		}
		hint := ""
		for _, want := range regionKeys {
			if suggest.Distance(strings.ToLower(k), want) <= 2 {
				hint = " (did you mean " + want + "?)"
				break
			}
		}
		errs = append(errs, fmt.Errorf("unknown key %q%s: want {resolvers, source, ecs}", k, hint))
	}
	return errs
}
