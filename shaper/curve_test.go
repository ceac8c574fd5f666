package shaper_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// flat returns a capture with a flat arrival rate: perMinute one-request
// sessions a minute, evenly spaced, for minutes minutes from base.
func flat(minutes, perMinute int) []schema.Exchange {
	every := time.Minute / time.Duration(perMinute)
	events := make([]schema.Exchange, minutes*perMinute)
	for i := range events {
		events[i] = schema.Exchange{Time: base.Add(time.Duration(i) * every), Session: fmt.Sprintf("s_%07d", i), Method: "GET", Path: "/live/1"}
	}
	return events
}

// lin is the value at x of the line through (x0, y0) and (x1, y1).
func lin(x, x0, y0, x1, y1 float64) float64 { return y0 + (y1-y0)*(x-x0)/(x1-x0) }

func TestCurveRatePerMinute(t *testing.T) {
	const minutes, perMinute = 10, 10_000
	events := flat(minutes, perMinute)
	at := func(m float64) time.Time { return base.Add(time.Duration(m * float64(time.Minute))) }
	tests := []struct {
		name    string
		curve   shaper.Curve
		formula func(m float64) float64 // the factor at minute m, written out
		str     string
	}{
		// Ramp 1 → 4 from +2m over 5m.
		{"ramp", shaper.Ramp{At: at(2), From: 1, To: 4, Over: 5 * time.Minute}, func(m float64) float64 {
			switch {
			case m < 2:
				return 1
			case m >= 7:
				return 4
			}
			return lin(m, 2, 1, 7, 4)
		}, "ramp(1→4 from 20:02:00Z over 5m0s)"},
		// Steps: 1 before +3m, 2.5 until +6m, 0.5 after.
		{"step", shaper.Step{{At: at(3), Value: 2.5}, {At: at(6), Value: 0.5}}, func(m float64) float64 {
			switch {
			case m < 3:
				return 1
			case m < 6:
				return 2.5
			}
			return 0.5
		}, "step(20:03:00Z=2.5, 20:06:00Z=0.5)"},
		// Spike to 5 at +5m, rising over 1m, falling over 2m.
		{"spike", shaper.Spike{At: at(5), Peak: 5, Rise: time.Minute, Fall: 2 * time.Minute}, func(m float64) float64 {
			switch {
			case m < 4 || m > 7:
				return 1
			case m < 5:
				return lin(m, 4, 1, 5, 5)
			}
			return lin(m, 5, 5, 7, 1)
		}, "spike(5 at 20:05:00Z, rise 1m0s, fall 2m0s)"},
		// Points 1 at 0, 3 at +4m, 1.5 at +8m, linear between, flat after.
		{"points", shaper.Points{{At: at(0), Value: 1}, {At: at(4), Value: 3}, {At: at(8), Value: 1.5}}, func(m float64) float64 {
			switch {
			case m < 4:
				return lin(m, 0, 1, 4, 3)
			case m < 8:
				return lin(m, 4, 3, 8, 1.5)
			}
			return 1.5
		}, "points(20:00:00Z=1, 20:04:00Z=3, 20:08:00Z=1.5)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.curve.String(); got != tt.str {
				t.Errorf("String() = %q; want %q", got, tt.str)
			}
			classes := &shaper.Classes{Default: shaper.Class{Ratio: 1, Curves: []shaper.Curve{tt.curve}}}
			got, _ := run(t, shaper.Config{Ratio: classes, Seed: 11, Spread: -1, IdleGap: time.Second}, events)
			perMin := make([]float64, minutes)
			for _, r := range got {
				perMin[r.At/time.Minute]++
			}
			for m := range minutes {
				// The intended rate: perMinute × the formula's mean over
				// the minute (midpoint rule, 6,000 steps).
				const steps = 6000
				sum := 0.0
				for k := range steps {
					sum += tt.formula(float64(m) + (float64(k)+0.5)/steps)
				}
				want := perMinute * sum / steps
				if math.Abs(perMin[m]-want) > 0.02*want {
					t.Errorf("minute %d: %v requests; want %.0f ± 2%%", m, perMin[m], want)
				}
			}
		})
	}
}

func TestWhen(t *testing.T) {
	start := time.Date(2026, 6, 1, 19, 55, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"", start},                                           // the window start
		{"+5m", start.Add(5 * time.Minute)},                   // offset
		{"90s", start.Add(90 * time.Second)},                  // offset without +
		{"20:00:00Z", start.Add(5 * time.Minute)},             // clock time on the start's day
		{"20:00", start.Add(5 * time.Minute)},                 // short clock time, UTC
		{"22:00:00+02:00", start.Add(5 * time.Minute)},        // clock time with a zone
		{"2026-06-01T21:00:00Z", start.Add(65 * time.Minute)}, // RFC 3339
	}
	for _, tt := range tests {
		got, err := shaper.When(tt.in, start)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("When(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := shaper.When("kickoff", start); err == nil {
		t.Error(`When("kickoff") = nil error; want one`)
	}
}
