package shaper

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/surge-replay/surge/internal/keyhash"
)

// domainRegion keys the region a region mix gives a virtual session.
const domainRegion = 'r'

// RegionsSpec is the `regions:` key of Settings: a rule giving virtual
// sessions a region, so replay resolves the target through that region's
// DNS (replay.Region) and the report splits by it.
//
//	regions: {mix: {eu: 0.6, us: 0.4}}
//	regions: {mix: {eu: 1, us: 1}, match: "region="}   # only sessions recorded without a region
type RegionsSpec struct {
	// Mix weighs the regions (any positive numbers; they are normalized):
	// each virtual session gets one region, by a keyed hash of its
	// virtual session id and the seed, so the same seed gives every
	// session the same region, and a session keeps its region for all its
	// requests. The share of sessions a region gets is its weight over the
	// sum, exact in expectation.
	Mix map[string]float64 `json:"mix"`
	// Match, when set, limits the rule to the sessions it matches, by
	// conditions on region or device (the same for all of a session's
	// requests): "region=" gives a region to sessions recorded without
	// one; others keep their recorded region.
	Match Conds `json:"match,omitempty"`
}

// regionMix is a compiled RegionsSpec.
type regionMix struct {
	names []string  // sorted
	cum   []float64 // cumulative normalized weights, last 1
	match Match
}

// compileRegions compiles spec; nil for none.
func compileRegions(spec *RegionsSpec) (*regionMix, error) {
	if spec == nil {
		return nil, nil
	}
	var errs []error
	if len(spec.Mix) == 0 {
		errs = append(errs, errors.New("regions: mix: no regions; want {eu: 0.6, us: 0.4}"))
	}
	m := &regionMix{}
	var sum float64
	for _, name := range slices.Sorted(maps.Keys(spec.Mix)) {
		w := spec.Mix[name]
		switch {
		case name == "" || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }):
			errs = append(errs, fmt.Errorf("regions: mix: region %q: want a name without spaces", name))
		case math.IsNaN(w) || math.IsInf(w, 0) || w <= 0:
			errs = append(errs, fmt.Errorf("regions: mix: %s: weight %v: want a positive number", name, w))
		}
		m.names = append(m.names, name)
		sum += w
		m.cum = append(m.cum, sum)
	}
	if len(spec.Match) > 0 {
		match, err := ParseMatch(spec.Match)
		if err != nil {
			errs = append(errs, fmt.Errorf("regions: match: %v", err))
		}
		for _, c := range match {
			if c.field != "region" && c.field != "device" {
				// A session's every request must get the same answer.
				errs = append(errs, fmt.Errorf("regions: match: %s: want conditions on region or device (the same for all of a session's requests)", c))
			}
		}
		m.match = match
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for i := range m.cum {
		m.cum[i] /= sum
	}
	m.cum[len(m.cum)-1] = 1
	return m, nil
}

// region returns the region of r's virtual session, or "" to keep the
// recorded one.
func (m *regionMix) region(r *Request, seed uint64) string {
	if len(m.match) > 0 && !m.match.Matches(r.Exchange, "") {
		return ""
	}
	u := keyhash.Unit(keyed(domainRegion, seed, 0, 0, r.VirtualSession))
	i, _ := slices.BinarySearch(m.cum, u)
	// u in [cum[i-1], cum[i]) is region i; u == cum[i] exactly belongs to
	// the next one.
	if i < len(m.cum) && m.cum[i] == u {
		i++
	}
	return m.names[min(i, len(m.names)-1)]
}
