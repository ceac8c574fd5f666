package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/shaper"
)

// regionsFrom reads the per-region DNS of a replay (docs/REGIONS.md): the
// `regions:` block of the config file, decoded strictly by
// replay.DecodeRegions, and dns.ttl (checked when the config was decoded).
func regionsFrom(cfg *config, engine *replay.Config) []error {
	engine.DNSTTL, _ = replay.ParseDNSTTL(cfg.s.DNS.TTL)
	raw := cfg.s.Regions
	if raw == nil {
		return nil
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return []error{fmt.Errorf("config %s: regions: %v", cfg.file, err)}
	}
	rgs, err := replay.DecodeRegions(data)
	if err != nil {
		return []error{fmt.Errorf("config %s: %v", cfg.file, err)}
	}
	engine.Regions = rgs
	return nil
}

// regionsPlan prints the regions of a run for its plan: each region's
// resolvers, source and client subnet, and how long answers are kept; ""
// without regions.
func regionsPlan(c *replay.Config) string {
	if len(c.Regions) == 0 {
		if c.DNSTTL != replay.DNSTTLRecord {
			// dns.ttl is the regions' cache rule (default: the records'
			// TTLs); the machine's resolver, without regions:, caches as the
			// system does.
			return "warning: dns.ttl is set but the config has no regions: it has no effect (docs/REGIONS.md)\n"
		}
		return ""
	}
	var b strings.Builder
	for _, rg := range c.Regions {
		fmt.Fprintf(&b, "%-9s %s\n", "region", rg)
	}
	ttl := replay.FormatDNSTTL(c.DNSTTL)
	switch c.DNSTTL {
	case replay.DNSTTLRecord:
		ttl += " (each answer for its records' TTL)"
	case replay.DNSTTLForever:
		ttl += " (each region's first answer for the whole run)"
	case replay.DNSTTLNone:
		ttl += " (never cached: every new connection asks)"
	default:
		ttl += " (each answer that long, whatever its TTL)"
	}
	fmt.Fprintf(&b, "%-9s %s\n", "dns ttl", ttl)
	return b.String()
}

// dnsLine says how many queries each region's resolvers got and how many
// lookups failed: "dns: eu 3 queries (0 failed), us 1 query (0 failed)";
// "" without regions (or without stats: a run that did not start).
func dnsLine(st *replay.Stats) string {
	if st == nil || len(st.DNS) == 0 {
		return ""
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(st.DNS)) {
		d := st.DNS[name]
		q := "queries"
		if d.Queries == 1 {
			q = "query"
		}
		parts = append(parts, fmt.Sprintf("%s %d %s (%d failed)", name, d.Queries, q, d.Failures))
	}
	return "dns: " + strings.Join(parts, ", ") + "\n"
}

// mixWarning says which regions of a region mix (shape.regions.mix) are not
// in regions: when there is no default region: their sessions resolve
// through the machine's resolver, which is most likely a typo of a region
// name. "" when every mix region is listed, there is a default, or the run
// has no regions: (a mix then only splits the report).
func mixWarning(spec *shaper.RegionsSpec, rgs []replay.Region) string {
	if spec == nil || len(rgs) == 0 {
		return ""
	}
	known := map[string]bool{}
	for _, rg := range rgs {
		known[rg.Name] = true
	}
	if known["default"] {
		return ""
	}
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(spec.Mix)) {
		if !known[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("warning: shape.regions.mix names %s, not in regions: (and there is no default region): those sessions resolve through the machine's resolver\n", strings.Join(missing, ", "))
}
