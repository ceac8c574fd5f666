package shaper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Settings is the written form of a run's shaping: the `shape:` block of a
// YAML config, the body of PATCH /v1/run and the payload of a control
// event, one set of keys for all three. Times ("at") are capture times,
// written as an offset from the window start ("+5m", "5m"), a clock time on
// the window start's day ("20:00:00Z", "20:00") or a full RFC 3339 time;
// empty means the window start. Durations are Go durations ("30s", "5m").
//
//	ratio: 3
//	ratios:
//	  - {name: live, match: "path=/live/**", ratio: 1, curves: [{step: [{at: "20:00:00Z", value: 10}]}]}
//	  - {match: "device=tv", ratio: 5}
//	curves: [{spike: {at: "20:45:00Z", peak: 3, rise: 30s, fall: 2m}}]
type Settings struct {
	// Ratio is the default class's ratio (replay.ratio); nil leaves it as
	// it was (1 in a new run).
	Ratio *float64 `json:"ratio,omitempty"`
	// Curves multiply the default class's ratio.
	Curves []CurveSpec `json:"curves,omitempty"`
	// Ratios are the classes, in order: the first match wins.
	Ratios []ClassSpec `json:"ratios,omitempty"`
	// Exits end live virtual sessions at capture times (every pass).
	Exits []ExitSpec `json:"exits,omitempty"`
	// Sessions are the named sets of recorded sessions exits send users
	// to; they are collected from the capture before the run (only in a
	// config, not in a change).
	Sessions map[string]SetSpec `json:"sessions,omitempty"`
	// Content maps recorded content ids to ids of a weighted list, per
	// virtual session; Rewrites edit the requests sent. Both apply to
	// requests due from the change on.
	Content  *ContentSpec  `json:"content,omitempty"`
	Rewrites []RewriteSpec `json:"rewrites,omitempty"`
	// Regions gives virtual sessions a region (a region mix, regions.go).
	// Fixed for the run: a change cannot set it, and a reload keeps the
	// run's.
	Regions *RegionsSpec `json:"regions,omitempty"`
}

// ClassSpec is one class of Settings.Ratios.
type ClassSpec struct {
	Name   string      `json:"name,omitempty"`
	Match  Conds       `json:"match"`
	Ratio  float64     `json:"ratio"`
	Curves []CurveSpec `json:"curves,omitempty"`
}

// Conds is a list of conditions (ParseCond), written as one string or a
// list of strings.
type Conds []string

// UnmarshalJSON accepts "path=/live/**" or ["path=/live/**", "device=tv"].
func (c *Conds) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*c = Conds{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("match: want a condition or a list of conditions (\"path=/live/**\")")
	}
	*c = list
	return nil
}

// CurveSpec is one curve: exactly one of its fields is set.
type CurveSpec struct {
	Ramp   *RampSpec   `json:"ramp,omitempty"`
	Step   []PointSpec `json:"step,omitempty"`
	Spike  *SpikeSpec  `json:"spike,omitempty"`
	Points []PointSpec `json:"points,omitempty"`
}

// RampSpec is a Ramp: from From at At to To over Over.
type RampSpec struct {
	At   string   `json:"at,omitempty"`
	From float64  `json:"from"`
	To   float64  `json:"to"`
	Over Duration `json:"over"`
}

// SpikeSpec is a Spike.
type SpikeSpec struct {
	At   string   `json:"at"`
	Peak float64  `json:"peak"`
	Rise Duration `json:"rise"`
	Fall Duration `json:"fall"`
}

// PointSpec is a Point of a step or points curve.
type PointSpec struct {
	At    string  `json:"at"`
	Value float64 `json:"value"`
}

// Duration is a time.Duration written as a Go duration string ("5m") or a
// number of seconds.
type Duration time.Duration

// UnmarshalJSON accepts "5m", "30s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("duration %q: want like 30s, 5m, 1h30m", s)
		}
		*d = Duration(v)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("duration %s: want like 30s, 5m, 1h30m", b)
	}
	*d = Duration(f * float64(time.Second))
	return nil
}

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// DecodeSettings decodes JSON (or YAML turned into JSON) into Settings,
// refusing unknown keys: "shape: json: unknown field "ratioz"".
func DecodeSettings(data []byte) (Settings, error) {
	var s Settings
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("shape: %v", err)
	}
	return s, nil
}

// When resolves a written capture time against the window start: "" is
// start; "+5m" or "5m" an offset from it; "20:00:00Z", "20:00:00" or
// "20:00" a clock time on start's day (UTC); else RFC 3339.
func When(s string, start time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return start, nil
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "+")); err == nil {
		return start.Add(d), nil
	}
	for _, layout := range []string{"15:04:05Z07:00", "15:04:05.999999999Z07:00", "15:04:05", "15:04Z07:00", "15:04"} {
		if c, err := time.Parse(layout, s); err == nil {
			y, m, d := start.UTC().Date()
			return time.Date(y, m, d, c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), time.UTC).Add(-offsetOf(c)), nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q: want an offset from the window start (+5m), a clock time (20:00:00Z) or an RFC 3339 time", s)
}

// offsetOf returns the zone offset of a parsed clock time (0 for Z or none).
func offsetOf(t time.Time) time.Duration {
	_, off := t.Zone()
	return time.Duration(off) * time.Second
}

// Classes compiles the settings into a Classes ratio, with capture times
// resolved against the window start; base is the default class's ratio when
// s.Ratio is nil. It returns every error, each naming where it is
// ("ratios[2].curves[0]: ...").
func (s *Settings) Classes(start time.Time, base float64) (*Classes, error) {
	var errs []error
	c := &Classes{Default: Class{Name: DefaultClass, Ratio: base}}
	if s.Ratio != nil {
		c.Default.Ratio = *s.Ratio
	}
	c.Default.Curves = compileCurves(s.Curves, start, "curves", &errs)
	if s.Content != nil {
		// "content=ID" conditions compare the recorded content id.
		rule, err := NewContentRule(s.Content.Pattern)
		if err != nil {
			errs = append(errs, fmt.Errorf("content: %v", err))
		}
		c.Content = rule
	}
	for i, cs := range s.Ratios {
		where := fmt.Sprintf("ratios[%d]", i)
		m, err := ParseMatch(cs.Match)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", where, err))
		}
		if len(cs.Match) == 0 {
			errs = append(errs, fmt.Errorf("%s: no match: a class needs one condition at least (\"path=/live/**\")", where))
		}
		cl := Class{Name: cs.Name, Match: m, Ratio: cs.Ratio, Curves: compileCurves(cs.Curves, start, where+".curves", &errs)}
		if cl.Name == "" {
			cl.Name = m.String()
		}
		c.Rules = append(c.Rules, cl)
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func compileCurves(specs []CurveSpec, start time.Time, where string, errs *[]error) []Curve {
	var out []Curve
	for i, cs := range specs {
		w := fmt.Sprintf("%s[%d]", where, i)
		at := func(s string) time.Time {
			t, err := When(s, start)
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s: %v", w, err))
			}
			return t
		}
		pts := func(ps []PointSpec) []Point {
			out := make([]Point, len(ps))
			for j, p := range ps {
				out[j] = Point{At: at(p.At), Value: p.Value}
			}
			return out
		}
		var set []Curve
		if r := cs.Ramp; r != nil {
			set = append(set, Ramp{At: at(r.At), From: r.From, To: r.To, Over: time.Duration(r.Over)})
		}
		if cs.Step != nil {
			set = append(set, Step(pts(cs.Step)))
		}
		if p := cs.Spike; p != nil {
			set = append(set, Spike{At: at(p.At), Peak: p.Peak, Rise: time.Duration(p.Rise), Fall: time.Duration(p.Fall)})
		}
		if cs.Points != nil {
			set = append(set, Points(pts(cs.Points)))
		}
		if len(set) != 1 {
			*errs = append(*errs, fmt.Errorf("%s: want exactly one of ramp, step, spike, points; have %d", w, len(set)))
			continue
		}
		out = append(out, set[0])
	}
	return out
}

// ParseRatioFor parses a --ratio-for value, "CONDITION[,CONDITION…]:RATIO"
// ("path=/live/**:10", "device=tv,region=eu:5"), into a class; the ratio is
// after the last colon.
func ParseRatioFor(s string) (ClassSpec, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return ClassSpec{}, fmt.Errorf("--ratio-for %q: want CONDITION:RATIO (path=/live/**:10)", s)
	}
	r, err := strconv.ParseFloat(s[i+1:], 64)
	if err != nil {
		return ClassSpec{}, fmt.Errorf("--ratio-for %q: ratio %q is not a number", s, s[i+1:])
	}
	if err := checkRatio(r); err != nil {
		return ClassSpec{}, fmt.Errorf("--ratio-for %q: %v", s, err)
	}
	conds := strings.Split(s[:i], ",")
	if _, err := ParseMatch(conds); err != nil {
		return ClassSpec{}, fmt.Errorf("--ratio-for %q: %v", s, err)
	}
	return ClassSpec{Match: conds, Ratio: r}, nil
}

// Shaped reports whether s shapes beyond a constant ratio: it has classes
// or curves.
func (s *Settings) Shaped() bool { return len(s.Ratios) > 0 || len(s.Curves) > 0 }
