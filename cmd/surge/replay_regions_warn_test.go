package main

import (
	"strings"
	"testing"

	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/shaper"
)

// TestMixWarning checks that a region mix naming a region regions: does not
// list (a typo, most likely) is warned about, and only then.
func TestMixWarning(t *testing.T) {
	eu, us, def := replay.Region{Name: "eu"}, replay.Region{Name: "us"}, replay.Region{Name: "default"}
	mix := func(names ...string) *shaper.RegionsSpec {
		m := map[string]float64{}
		for _, n := range names {
			m[n] = 1
		}
		return &shaper.RegionsSpec{Mix: m}
	}
	for _, tc := range []struct {
		name string
		spec *shaper.RegionsSpec
		rgs  []replay.Region
		want string // "" for no warning
	}{
		{"every mix region listed", mix("eu", "us"), []replay.Region{eu, us}, ""},
		{"a typo of a region", mix("eu", "su", "mars"), []replay.Region{eu, us}, "names mars, su, not in regions:"},
		{"a default region takes the rest", mix("eu", "mars"), []replay.Region{eu, def}, ""},
		{"no regions: the mix only splits the report", mix("mars"), nil, ""},
		{"no mix", nil, []replay.Region{eu}, ""},
	} {
		got := mixWarning(tc.spec, tc.rgs)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q; want %q", tc.name, got, tc.want)
		}
	}
}

// TestTTLWithoutRegions: dns.ttl without regions: has no effect, and the plan
// says so; the default says nothing.
func TestTTLWithoutRegions(t *testing.T) {
	if got := regionsPlan(&replay.Config{DNSTTL: replay.DNSTTLRecord}); got != "" {
		t.Errorf("default dns.ttl, no regions: %q; want nothing", got)
	}
	if got := regionsPlan(&replay.Config{DNSTTL: replay.DNSTTLForever}); !strings.Contains(got, "dns.ttl is set but the config has no regions") {
		t.Errorf("dns.ttl inf, no regions: %q; want a warning", got)
	}
}
