package shaper_test

import (
	"math"
	"strings"
	"testing"

	"github.com/surge-replay/surge/shaper"
)

// TestRegionMix: a region mix gives every virtual session one region for
// all its requests, in proportion to the weights, the same for the same
// seed; a match limits it to the sessions it names.
func TestRegionMix(t *testing.T) {
	events := synth(2000, 3, 0, 0)
	// Odd sessions were recorded in a region, even ones in none.
	for i := range events {
		events[i].Region = map[bool]string{true: "", false: "recorded"}[events[i].Session[len(events[i].Session)-1]%2 == 0]
	}
	shape := shaper.Settings{Regions: &shaper.RegionsSpec{Mix: map[string]float64{"eu": 0.6, "us": 0.4}}}
	got, st := run(t, shaper.Config{Seed: 7, Ratio: shaper.Constant(2), Shape: shape}, events)
	of := map[string]string{}
	count := map[string]float64{}
	for _, r := range got {
		if prev, ok := of[r.VirtualSession]; ok && prev != r.Region {
			t.Fatalf("virtual session %s in %s, then %s; want one region", r.VirtualSession, prev, r.Region)
		}
		if _, ok := of[r.VirtualSession]; !ok {
			count[r.Region]++
		}
		of[r.VirtualSession] = r.Region
	}
	vs := float64(st.VirtualSessions)
	for name, w := range map[string]float64{"eu": 0.6, "us": 0.4} {
		if tol := 5 * math.Sqrt(vs*w*(1-w)); math.Abs(count[name]-vs*w) > tol {
			t.Errorf("%s: %v of %v virtual sessions; want %.0f ± %.0f", name, count[name], vs, vs*w, tol)
		}
	}
	// The same seed, the same regions.
	again, _ := run(t, shaper.Config{Seed: 7, Ratio: shaper.Constant(2), Shape: shape}, events)
	for i := range got {
		if got[i].Region != again[i].Region {
			t.Fatalf("request %d: region %s, then %s with the same seed", i, got[i].Region, again[i].Region)
		}
	}
	// Only sessions recorded without a region get one.
	shape.Regions.Match = shaper.Conds{"region="}
	got, _ = run(t, shaper.Config{Seed: 7, Ratio: shaper.Constant(2), Shape: shape}, events)
	for _, r := range got {
		if r.Exchange.Region == "recorded" && r.Region != "" {
			t.Fatalf("session %s recorded in a region got %q; want it kept", r.Session, r.Region)
		}
		if r.Exchange.Region == "" && r.Region != "eu" && r.Region != "us" {
			t.Fatalf("session %s without a region got %q; want eu or us", r.Session, r.Region)
		}
	}
}

// TestRegionMixErrors: bad mixes are refused, each naming what is wrong;
// a change during the run cannot set one.
func TestRegionMixErrors(t *testing.T) {
	for _, tc := range []struct {
		spec shaper.RegionsSpec
		want string
	}{
		{shaper.RegionsSpec{}, "regions: mix: no regions"},                                                                                  // empty
		{shaper.RegionsSpec{Mix: map[string]float64{"eu": -1}}, "regions: mix: eu: weight -1"},                                              // negative
		{shaper.RegionsSpec{Mix: map[string]float64{"eu": math.NaN()}}, "regions: mix: eu: weight NaN"},                                     // not a number
		{shaper.RegionsSpec{Mix: map[string]float64{"eu west": 1}}, `region "eu west": want a name without spaces`},                         // a space
		{shaper.RegionsSpec{Mix: map[string]float64{"eu": 1}, Match: shaper.Conds{"path=/live/**"}}, "want conditions on region or device"}, // per request
	} {
		cfg := shaper.Config{Shape: shaper.Settings{Regions: &tc.spec}}
		errs := cfg.Validate()
		if len(errs) == 0 || !strings.Contains(errs[0].Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v; want %q", tc.spec, errs, tc.want)
		}
	}
	ctl := shaper.Control{Op: shaper.OpSet, Set: &shaper.Settings{Regions: &shaper.RegionsSpec{Mix: map[string]float64{"eu": 1}}}}
	if err := ctl.Validate(); err == nil || !strings.Contains(err.Error(), "regions are fixed for the run") {
		t.Errorf("a change setting regions: %v; want refused", err)
	}
}

// TestDecodeRegionsSetting: shape.regions as written in a config.
func TestDecodeRegionsSetting(t *testing.T) {
	s, err := shaper.DecodeSettings([]byte(`{"regions": {"mix": {"eu": 0.6, "us": 0.4}, "match": "region="}}`))
	if err != nil || s.Regions == nil || s.Regions.Mix["eu"] != 0.6 || len(s.Regions.Match) != 1 {
		t.Fatalf("DecodeSettings = %+v, %v", s.Regions, err)
	}
	if _, err := shaper.DecodeSettings([]byte(`{"regions": {"mixx": {}}}`)); err == nil {
		t.Error("an unknown key under regions: no error")
	}
}
