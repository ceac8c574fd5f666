package replay

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestDecodeRegions(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Region
		err  string // "" for none; else a part of the error
	}{
		// Every field.
		{in: `{"eu": {"resolvers": ["127.0.0.1:5301", "127.0.0.1:5302"], "source": "127.0.0.5", "ecs": "198.51.100.77/24"}}`,
			want: []Region{{Name: "eu", Resolvers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:5301"), netip.MustParseAddrPort("127.0.0.1:5302")},
				Source: netip.MustParseAddr("127.0.0.5"), ECS: netip.MustParsePrefix("198.51.100.0/24")}}},
		// Short forms: one resolver as a string, a bare IP is port 53; sorted by name.
		{in: `{"us": "127.0.0.1:5302", "eu": ["127.0.0.1"]}`,
			want: []Region{{Name: "eu", Resolvers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}},
				{Name: "us", Resolvers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:5302")}}}},
		// IPv6 resolver and subnet.
		{in: `{"ap": {"resolvers": "[::1]:5353", "ecs": "2001:db8:1:2::/56"}}`,
			want: []Region{{Name: "ap", Resolvers: []netip.AddrPort{netip.MustParseAddrPort("[::1]:5353")}, ECS: netip.MustParsePrefix("2001:db8:1::/56")}}},
		// A v4-mapped subnet is its IPv4 subnet.
		{in: `{"eu": {"resolvers": "127.0.0.1:53", "ecs": "::ffff:198.51.100.3/120"}}`,
			want: []Region{{Name: "eu", Resolvers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}, ECS: netip.MustParsePrefix("198.51.100.0/24")}}},
		// A name is not a resolver.
		{in: `{"eu": {"resolvers": ["dns.example:53"]}}`, err: `regions: eu: resolvers[0]: "dns.example:53": want a resolver's IP:port`},
		// No resolvers.
		{in: `{"eu": {"source": "127.0.0.5"}}`, err: "regions: eu: resolvers: none"},
		// An unknown key.
		{in: `{"eu": {"resolvers": "127.0.0.1:53", "ttl": 5}}`, err: `regions: eu: unknown key "ttl": want {resolvers, source, ecs}`},
		// A typo of a key: the nearest is suggested.
		{in: `{"eu": {"resolver": "127.0.0.1:53"}}`, err: `regions: eu: unknown key "resolver" (did you mean resolvers?)`},
		// Every unknown key is reported, each with its own hint.
		{in: `{"eu": {"resolvers": "127.0.0.1:53", "sorce": "127.0.0.5", "ECS": "198.51.100.0/24"}}`, err: `unknown key "ECS" (did you mean ecs?): want {resolvers, source, ecs}
regions: eu: unknown key "sorce" (did you mean source?)`},
		// A bad source and a bad subnet: both reported.
		{in: `{"eu": {"resolvers": "127.0.0.1:53", "source": "here", "ecs": "198.51.100.1"}}`, err: `source "here"`},
		{in: `{"eu": {"resolvers": "127.0.0.1:53", "source": "here", "ecs": "198.51.100.1"}}`, err: `ecs "198.51.100.1": want a client subnet prefix`},
		// Source and resolver of different families.
		{in: `{"eu": {"resolvers": "[::1]:53", "source": "127.0.0.5"}}`, err: "not the same address family"},
		// Port 0.
		{in: `{"eu": "127.0.0.1:0"}`, err: "with a port above 0"},
		// A region name with a space.
		{in: `{"eu west": "127.0.0.1:53"}`, err: `regions: "eu west": want a region name without spaces`},
		// Not a map.
		{in: `["eu"]`, err: "regions: want a map of region name"},
		// A region that is a number.
		{in: `{"eu": 5}`, err: "regions: eu: want {resolvers, source, ecs}"},
	} {
		got, err := DecodeRegions([]byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("DecodeRegions(%s) error = %v; want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("DecodeRegions(%s) = %v", tc.in, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("DecodeRegions(%s) = %+v; want %+v", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			g, w := got[i], tc.want[i]
			if g.Name != w.Name || g.Source != w.Source || g.ECS != w.ECS || len(g.Resolvers) != len(w.Resolvers) {
				t.Errorf("DecodeRegions(%s)[%d] = %+v; want %+v", tc.in, i, g, w)
				continue
			}
			for j := range g.Resolvers {
				if g.Resolvers[j] != w.Resolvers[j] {
					t.Errorf("DecodeRegions(%s)[%d].Resolvers = %v; want %v", tc.in, i, g.Resolvers, w.Resolvers)
				}
			}
		}
	}
}

func TestParseDNSTTL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", DNSTTLRecord, true},            // the default: the records' TTL
		{"ttl", DNSTTLRecord, true},         // said outright
		{"inf", DNSTTLForever, true},        // the first answer for the run
		{"0", DNSTTLNone, true},             // never cached
		{"5s", 5 * time.Second, true},       // a fixed time
		{" 1m30s ", 90 * time.Second, true}, // spaces around
		{"0s", 0, false},                    // ambiguous: 0 is the way to say never
		{"-5s", 0, false},                   // negative
		{"forever", 0, false},               // not a word it knows
	} {
		got, err := ParseDNSTTL(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseDNSTTL(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok {
			if back, _ := ParseDNSTTL(FormatDNSTTL(got)); back != got {
				t.Errorf("ParseDNSTTL(FormatDNSTTL(%v)) = %v", got, back)
			}
		}
	}
}

// FuzzDecodeRegions: any input decodes to regions or an error, never a
// panic; decoded regions have a name, resolvers with ports, a masked
// subnet, and a source of the resolvers' family.
func FuzzDecodeRegions(f *testing.F) {
	for _, s := range []string{
		`{"eu": {"resolvers": ["127.0.0.1:5301"], "source": "127.0.0.5", "ecs": "198.51.100.77/24"}}`,
		`{"us": "127.0.0.1:5302", "eu": ["127.0.0.1"]}`,
		`{"ap": {"resolvers": "[::1]:5353", "ecs": "2001:db8::/56"}}`,
		`{"eu": {"resolvers": "[::ffff:127.0.0.1]:53", "ecs": "::ffff:10.0.0.0/120"}}`,
		`{"": []}`, `[]`, `null`, `{"eu": null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rgs, err := DecodeRegions(data)
		if err != nil {
			return
		}
		for _, rg := range rgs {
			if rg.Name == "" || len(rg.Resolvers) == 0 {
				t.Fatalf("region %+v: no name or no resolvers", rg)
			}
			for _, r := range rg.Resolvers {
				if !r.IsValid() || r.Port() == 0 || r.Addr().Is4In6() {
					t.Fatalf("region %s: resolver %v", rg.Name, r)
				}
				if rg.Source.IsValid() && rg.Source.Is4() != r.Addr().Is4() {
					t.Fatalf("region %s: source %v and resolver %v", rg.Name, rg.Source, r)
				}
			}
			if rg.ECS.IsValid() && rg.ECS != rg.ECS.Masked() {
				t.Fatalf("region %s: subnet %v not masked", rg.Name, rg.ECS)
			}
		}
	})
}

func TestValidateRegions(t *testing.T) {
	ok := netip.MustParseAddrPort("127.0.0.1:53")
	for _, tc := range []struct {
		cfg  Config
		want string // "" for valid
	}{
		{Config{Regions: []Region{{Name: "eu", Resolvers: []netip.AddrPort{ok}}}}, ""},                                                            // fine
		{Config{DNSTTL: DNSTTLNone}, ""},                                                                                                          // never cache
		{Config{DNSTTL: -5 * time.Second}, "dns ttl: negative"},                                                                                   // negative, not DNSTTLNone
		{Config{Regions: []Region{{Resolvers: []netip.AddrPort{ok}}}}, "regions[0]: no name"},                                                     // no name
		{Config{Regions: []Region{{Name: "eu"}}}, "regions: eu: no resolvers"},                                                                    // no resolvers
		{Config{Regions: []Region{{Name: "eu", Resolvers: []netip.AddrPort{ok}}, {Name: "eu", Resolvers: []netip.AddrPort{ok}}}}, "listed twice"}, // twice
	} {
		errs := tc.cfg.validateRegions()
		switch {
		case tc.want == "" && len(errs) > 0:
			t.Errorf("validateRegions(%+v) = %v; want none", tc.cfg.Regions, errs)
		case tc.want != "" && (len(errs) == 0 || !strings.Contains(errs[0].Error(), tc.want)):
			t.Errorf("validateRegions(%+v) = %v; want %q", tc.cfg.Regions, errs, tc.want)
		}
	}
}
