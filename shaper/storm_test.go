package shaper_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/shaper"
)

func TestStormValidate(t *testing.T) {
	for _, tc := range []struct {
		yaml string // the shape block, as JSON
		want string // "" when valid; else a substring of the error
	}{
		// half the sockets at half-time, decorrelated jitter.
		{`{"storm": [{"at": "50%", "fraction": 0.5, "policy": "decorrelated_jitter", "base": "1s", "cap": "30s", "max_attempts": 8}]}`, ""},
		// a class, a clock time, a dashed policy name.
		{`{"storm": [{"at": "20:07:00Z", "class": "live", "fraction": 1, "policy": "Full-Jitter"}]}`, ""},
		// a target restart.
		{`{"storm": [{"at": "+20m", "restart": "/_demo/restart", "policy": "exponential"}]}`, ""},
		// no at.
		{`{"storm": [{"fraction": 0.5}]}`, "storm[0].at: missing"},
		// a share over 100%.
		{`{"storm": [{"at": "150%", "fraction": 0.5}]}`, `storm[0].at: "150%": want a share of the window`},
		// an unreadable time.
		{`{"storm": [{"at": "soon", "fraction": 0.5}]}`, `storm[0].at: time "soon"`},
		// no fraction.
		{`{"storm": [{"at": "+1m"}]}`, "storm[0].fraction: 0 is not in (0, 1]"},
		// a percentage written as a fraction.
		{`{"storm": [{"at": "+1m", "fraction": 50}]}`, "storm[0].fraction: 50 is not in (0, 1]"},
		// an unknown policy lists the known ones.
		{`{"storm": [{"at": "+1m", "fraction": 0.5, "policy": "linear"}]}`, `storm[0].policy: "linear": want one of none, fixed, exponential, full_jitter, equal_jitter, decorrelated_jitter`},
		// cap below base, negative attempts: both reported, in the second storm.
		{`{"storm": [{"at": "+1m", "fraction": 0.5}, {"at": "+2m", "fraction": 0.5, "base": "10s", "cap": "1s", "max_attempts": -1}]}`, "storm[1].cap: 1s is below base 10s\nstorm[1].max_attempts: -1 is negative"},
		// a restart that is not a path.
		{`{"storm": [{"at": "+1m", "restart": "restart now"}]}`, `storm[0].restart: "restart now" is not a path`},
		// a restart with a fraction.
		{`{"storm": [{"at": "+1m", "restart": "/r", "fraction": 0.5}]}`, "storm[0].restart: the target closes its connections itself"},
	} {
		s, err := shaper.DecodeSettings([]byte(tc.yaml))
		if err != nil {
			t.Fatalf("DecodeSettings(%s) = %v", tc.yaml, err)
		}
		err = s.ValidateStorms()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("ValidateStorms(%s) = %v; want nil", tc.yaml, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("ValidateStorms(%s) = %v; want %q", tc.yaml, err, tc.want)
		}
		cfg := shaper.Config{Shape: s}
		if errs := cfg.Validate(); (len(errs) > 0) != (tc.want != "") {
			t.Errorf("Config.Validate with %s = %v; want errors: %v", tc.yaml, errs, tc.want != "")
		}
	}
}

func TestStorms(t *testing.T) {
	start := base
	end := base.Add(30 * time.Minute)
	s, err := shaper.DecodeSettings([]byte(`{"storm": [
		{"at": "50%", "fraction": 0.5, "policy": "decorrelated_jitter"},
		{"at": "+5m", "restart": "/_demo/restart"},
		{"at": "+40m", "fraction": 1},
		{"at": "100%", "fraction": 1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		speed float64
		loops int
		want  string // index@offset per storm
	}{
		// one pass at recorded speed: +5m, half-time, the end; +40m is outside.
		{1, 1, "1@5m0s 0@15m0s 3@30m0s"},
		// 30x faster.
		{30, 1, "1@10s 0@30s 3@1m0s"},
		// two passes at 30x: each storm in each pass.
		{30, 2, "1@10s 0@30s 3@1m0s 1@1m10s 0@1m30s 3@2m0s"},
	} {
		storms, err := s.Storms(start, end, tc.speed, tc.loops)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, st := range storms {
			got = append(got, fmt.Sprintf("%d@%v", st.Index, st.Offset))
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("Storms(speed %v, loops %d) = %s; want %s", tc.speed, tc.loops, g, tc.want)
		}
	}
	if _, err := s.Storms(start, time.Time{}, 1, 1); err == nil || !strings.Contains(err.Error(), `storm[0].at: "50%" is a share of the window`) {
		t.Errorf("Storms with an open window = %v; want the share refused", err)
	}
}

// TestStormControl: a live change cannot add a storm.
func TestStormControl(t *testing.T) {
	c := shaper.Control{Op: shaper.OpSet, Set: &shaper.Settings{Storm: []shaper.StormSpec{{At: "+1m", Fraction: 1}}}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "storms are planned when the run starts") {
		t.Errorf("Validate(set storm) = %v; want refused", err)
	}
}

// FuzzStormSettings: any shape JSON with storms decodes or errors; valid
// storms resolve to offsets inside the passes, in order.
func FuzzStormSettings(f *testing.F) {
	f.Add(`{"storm": [{"at": "50%", "fraction": 0.5, "policy": "decorrelated_jitter", "base": "1s", "cap": "30s"}]}`, 30.0, 2)
	f.Add(`{"storm": [{"at": "+5m", "restart": "/_demo/restart"}, {"at": "20:07:00Z", "class": "live", "fraction": 1}]}`, 1.0, 1)
	f.Add(`{"storm": [{"at": "2026-06-01T20:10:00Z", "fraction": 1e-9, "max_attempts": 3}]}`, 0.5, 3)
	f.Fuzz(func(t *testing.T, data string, speed float64, loops int) {
		s, err := shaper.DecodeSettings([]byte(data))
		if err != nil || speed <= 0 || speed > 1e6 || math.IsNaN(speed) || loops < 1 || loops > 10 {
			return
		}
		storms, err := s.Storms(base, base.Add(30*time.Minute), speed, loops)
		if err != nil {
			return
		}
		total := time.Duration(float64(30*time.Minute) * float64(loops) / speed)
		for i, st := range storms {
			if st.Offset < 0 || st.Offset > total+time.Millisecond {
				t.Errorf("storm %d at offset %v; want within [0, %v]", i, st.Offset, total)
			}
			if i > 0 && st.Offset < storms[i-1].Offset {
				t.Errorf("storms out of order: %v after %v", st.Offset, storms[i-1].Offset)
			}
			_ = st.String()
		}
	})
}
