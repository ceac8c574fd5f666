package main

import (
	"encoding/json"
	"fmt"

	"github.com/surge-replay/surge/replay"
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
