package shaper_test

import (
	"strings"
	"testing"

	"github.com/surge-replay/surge/shaper"
)

// TestDecodeSettingsErrors: DecodeSettings names each bad key by its path,
// with the nearest known key, and says values as written; never the JSON
// decoder's words.
func TestDecodeSettingsErrors(t *testing.T) {
	tests := []struct {
		body string
		want []string
	}{
		{`{"ratioz": 3}`, []string{`ratioz: unknown key (did you mean "ratio"?)`}},                   // top-level typo
		{`{"ratio": "3"}`, []string{`ratio: "3" is a string; want a number`}},                        // a quoted number
		{`{"ratios": [{"match": "path=/x", "ratio": 1, "curvs": []}]}`, []string{`ratios[0].curvs`}}, // inside a list
		{`{"ratios": {"match": "path=/x"}}`, []string{`ratios: found a mapping; want a list`}},       // a mapping for a list
		{`{"exits": [{"fraction": 0.2, "within": "soon"}]}`, []string{`exits[0].within: "soon" is not a duration`}},
		{`{"sessions": {"home": {"match": "path=/", "max": 1.5}}}`, []string{`sessions.home.max: 1.5 is a number; want a whole number`}},
		{`{"xyzzy": 1}`, []string{`xyzzy: unknown key (known: ratio, curves, ratios, exits, sessions, storm, content, rewrites, regions)`}}, // nothing near
		{`{"ratio": 3`, []string{`not JSON`}}, // cut short
	}
	for _, tt := range tests {
		_, err := shaper.DecodeSettings([]byte(tt.body))
		if err == nil {
			t.Errorf("DecodeSettings(%s) = nil error; want %q", tt.body, tt.want)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("DecodeSettings(%s) = %v; want it to say %q", tt.body, err, w)
			}
		}
		if strings.Contains(err.Error(), "json: unknown field") || strings.Contains(err.Error(), "Go struct") {
			t.Errorf("DecodeSettings(%s) = %v: the decoder's words", tt.body, err)
		}
	}
	if _, err := shaper.DecodeSettings([]byte(`{"Ratio": 3, "ratios": [{"match": ["path=/x", "device=tv"], "ratio": 2}]}`)); err != nil {
		t.Errorf("DecodeSettings(good, a key in capitals) = %v", err)
	}
	if _, err := shaper.DecodeExit([]byte(`{"fraction": 0.2, "clas": "live"}`)); err == nil || !strings.Contains(err.Error(), `clas: unknown key (did you mean "class"?)`) {
		t.Errorf("DecodeExit(typo) = %v; want the key named", err)
	}
}

// TestCheckChange: a change to a run is checked against the run's classes
// and session sets.
func TestCheckChange(t *testing.T) {
	run := shaper.Settings{
		Ratios:   []shaper.ClassSpec{{Name: "live", Match: shaper.Conds{"path=/live/**"}, Ratio: 2}},
		Sessions: map[string]shaper.SetSpec{"home": {Match: shaper.Conds{"path=/home"}}},
	}
	exit := func(e shaper.ExitSpec) *shaper.Control { return &shaper.Control{Op: shaper.OpExit, Exit: &e} }
	tests := []struct {
		ctl  *shaper.Control
		want string // "" for no error
	}{
		{exit(shaper.ExitSpec{Fraction: 0.2, Class: "live", To: "home"}), ""},                                       // known class and set
		{exit(shaper.ExitSpec{Fraction: 0.2, Class: "home"}), ""},                                                   // follow-ups are of their set's class
		{exit(shaper.ExitSpec{Fraction: 0.2, Class: "default"}), ""},                                                // the default class
		{exit(shaper.ExitSpec{Fraction: 0.2, Class: "lvie"}), `exit.class: no class "lvie" (did you mean "live"?)`}, // a typo
		{exit(shaper.ExitSpec{Fraction: 0.2, To: "away"}), `exit.to: no session set "away" (sets: home)`},           // no such set
		// A set change whose exits name an unknown set.
		{&shaper.Control{Op: shaper.OpSet, Set: &shaper.Settings{Exits: []shaper.ExitSpec{{At: "+1m", Fraction: 0.1, To: "hom"}}}}, `exits[0].to: no session set "hom" (did you mean "home"?)`},
		// Replacing the classes: an exit of a class that no longer is.
		{&shaper.Control{Op: shaper.OpSet, Replace: true, Set: &shaper.Settings{Exits: []shaper.ExitSpec{{At: "+1m", Fraction: 0.1, Class: "live"}}}}, `exits[0].class: no class "live"`},
	}
	for _, tt := range tests {
		err := run.CheckChange(tt.ctl)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckChange(%v) = %v; want %q", tt.ctl, err, tt.want)
		}
	}
}
