package shaper_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

func TestCondMatches(t *testing.T) {
	e := &schema.Exchange{Method: "GET", Host: "api.example.com", Path: "/live/match-42/manifest.m3u8",
		Query: "lang=en&quality=hd&lang=fr", Region: "eu-west", Device: "tv", Protocol: "http/1.1",
		Headers: []schema.Header{{Name: "X-Client", Value: "smart-tv/3.1"}}}
	tests := []struct {
		cond string
		want bool
	}{
		{"path=/live/**", true},                     // prefix glob
		{"path=/live/*", false},                     // * stops at /
		{"path=/live/*/manifest.m3u8", true},        // * inside
		{"path=/live/match-4?/*", true},             // ? is one character
		{"path=/vod/**", false},                     // other prefix
		{"path~^/live/match-[0-9]+/", true},         // regexp
		{"path=/live/match-42/manifest.m3u8", true}, // exact
		{"method=get", true},                        // method without case
		{"method=POST", false},                      // other method
		{"host=*.example.com", true},                // host glob
		{"region=eu-west", true},                    // region
		{"region~^us-", false},                      // region regexp
		{"device=tv", true},                         // device
		{"protocol=h2", false},                      // protocol
		{"header.x-client~^smart-tv/", true},        // header name without case
		{"header.X-Other=1", false},                 // absent header
		{"query.lang=fr", true},                     // any of a parameter's values
		{"query.quality=sd", false},                 // other value
		{"query.missing=x", false},                  // absent parameter
		{"content=match-42", true},                  // content id given by the caller
	}
	for _, tt := range tests {
		c, err := shaper.ParseCond(tt.cond)
		if err != nil {
			t.Fatalf("ParseCond(%q) = %v", tt.cond, err)
		}
		if got := c.Matches(e, "match-42"); got != tt.want {
			t.Errorf("ParseCond(%q).Matches = %v; want %v", tt.cond, got, tt.want)
		}
		if c.String() != tt.cond {
			t.Errorf("ParseCond(%q).String() = %q; want it as written", tt.cond, c.String())
		}
	}
}

func TestParseCondErrors(t *testing.T) {
	for _, s := range []string{
		"path",       // no operator
		"=x",         // no key
		"colour=red", // unknown key
		"header=x",   // header without a name
		"path.x=1",   // path with a name
		"path~(",     // bad regexp
	} {
		if _, err := shaper.ParseCond(s); err == nil {
			t.Errorf("ParseCond(%q) = nil error; want one", s)
		}
	}
}

// classCapture returns n one-request sessions cycling through live, vod, tv
// and radio first requests, a millisecond apart.
func classCapture(n int) []schema.Exchange {
	events := make([]schema.Exchange, n)
	for i := range events {
		e := schema.Exchange{Time: base.Add(time.Duration(i) * time.Millisecond), Session: fmt.Sprintf("s_%06d", i), Method: "GET"}
		switch i % 4 {
		case 0:
			e.Path, e.Device = "/live/42/seg", "tv" // live wins over tv: first match
		case 1:
			e.Path, e.Device = "/vod/7", "tv"
		case 2:
			e.Path, e.Device = "/vod/8", "phone"
		case 3:
			e.Path, e.Device = "/radio/1", "phone"
		}
		events[i] = e
	}
	return events
}

func TestClassesSessionCounts(t *testing.T) {
	const n = 40_000 // 10,000 per kind
	set := shaper.Settings{Ratios: []shaper.ClassSpec{
		{Name: "live", Match: shaper.Conds{"path=/live/**"}, Ratio: 10},
		{Match: shaper.Conds{"device=tv"}, Ratio: 5.5},
		{Match: shaper.Conds{"path~^/radio/"}, Ratio: 0.3},
	}}
	classes, err := set.Classes(base, 2.5)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := run(t, shaper.Config{Ratio: classes, Seed: 3, Spread: -1}, classCapture(n))
	count := map[string]float64{}
	for _, r := range got {
		count[r.Class]++
	}
	sd := func(p float64) float64 { return math.Sqrt(n / 4 * p * (1 - p)) }
	tests := []struct {
		class string
		want  float64 // expected virtual sessions
		tol   float64 // five standard deviations of the fractional part
	}{
		{"live", 100_000, 0},                  // 10 exactly per session
		{"device=tv", 55_000, 5 * sd(0.5)},    // vod on tv: 5 or 6
		{"default", 25_000, 5 * sd(0.5)},      // vod on phone: 2 or 3
		{"path~^/radio/", 3_000, 5 * sd(0.3)}, // radio: 0 or 1
	}
	for _, tt := range tests {
		if d := math.Abs(count[tt.class] - tt.want); d > tt.tol {
			t.Errorf("class %s: %v virtual sessions; want %v ± %.0f", tt.class, count[tt.class], tt.want, tt.tol)
		}
	}
	if len(count) != len(tests) {
		t.Errorf("classes seen = %v; want the %d of the table", count, len(tests))
	}
}

func TestParseRatioFor(t *testing.T) {
	tests := []struct {
		in    string
		conds []string
		ratio float64
		bad   bool
	}{
		{in: "path=/live/**:10", conds: []string{"path=/live/**"}, ratio: 10},                  // the example
		{in: "device=tv:5", conds: []string{"device=tv"}, ratio: 5},                            // label
		{in: "device=tv,region=eu:2.5", conds: []string{"device=tv", "region=eu"}, ratio: 2.5}, // two conditions
		{in: "header.x-time=10:00:3", conds: []string{"header.x-time=10:00"}, ratio: 3},        // the last colon
		{in: "path=/live/**", bad: true},                                                       // no ratio
		{in: "path=/live/**:x", bad: true},                                                     // not a number
		{in: "path=/x:-1", bad: true},                                                          // negative
		{in: "colour=red:2", bad: true},                                                        // unknown key
	}
	for _, tt := range tests {
		got, err := shaper.ParseRatioFor(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseRatioFor(%q) = %+v; want an error", tt.in, got)
			}
			continue
		}
		if err != nil || fmt.Sprint(got.Match) != fmt.Sprint(tt.conds) || got.Ratio != tt.ratio {
			t.Errorf("ParseRatioFor(%q) = %+v, %v; want %v:%v", tt.in, got, err, tt.conds, tt.ratio)
		}
	}
}

func TestSettingsErrors(t *testing.T) {
	data := `{"ratios": [{"match": "colour=red", "ratio": 2}, {"match": "path=/x", "ratio": -1},
		{"match": "path=/y", "ratio": 1, "curves": [{"ramp": {"from": 1, "to": 2, "over": "1m"}, "spike": {"at": "+1m", "peak": 2}}]}],
		"curves": [{"step": [{"at": "+2m", "value": 1}, {"at": "+1m", "value": 2}]}, {"points": [{"at": "noon", "value": 1}]}]}`
	s, err := shaper.DecodeSettings([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Classes(base, 1)
	if err == nil {
		t.Fatal("Classes = nil error; want five")
	}
	for _, want := range []string{"ratios[0].match: condition \"colour=red\"", "ratios[1].ratio: ratio -1 is negative", "ratios[2].curves[0]: want exactly one",
		// Offsets are named as written, durations, never clock times of
		// the day the check resolved them against.
		`curves[0]: step: point 2 (at "+1m", 1m0s after the window start) is not after point 1 (at "+2m", 2m0s after the window start)`,
		`curves[1]: time "noon"`} {
		if !contains(err.Error(), want) {
			t.Errorf("Classes error = %v; want it to say %q", err, want)
		}
	}
	if _, err := shaper.DecodeSettings([]byte(`{"ratioz": 1}`)); err == nil || !contains(err.Error(), "ratioz") {
		t.Errorf("DecodeSettings(unknown key) = %v; want it named", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestClassesContentCondition: a "content=" condition compares the content
// id the content pattern extracts from the first request.
func TestClassesContentCondition(t *testing.T) {
	set := shaper.Settings{
		Content: &shaper.ContentSpec{Pattern: `^/live/(?P<id>[^/]+)/`, IDs: []shaper.Choice{{ID: "x", Weight: 1}}},
		Ratios:  []shaper.ClassSpec{{Name: "final", Match: shaper.Conds{"content=final-2025"}, Ratio: 4}},
	}
	c, err := set.Classes(base, 1)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/live/final-2025/seg-1.ts": "final", "/live/friendly/seg-1.ts": "default", "/vod/final-2025/": "default"} {
		if _, got := c.Classify(&schema.Exchange{Path: path}); got != want {
			t.Errorf("Classify(%s) = %s; want %s", path, got, want)
		}
	}
}
