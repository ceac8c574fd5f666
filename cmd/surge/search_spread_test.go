package main

import (
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/shaper"
)

func TestCappedSpread(t *testing.T) {
	for _, tc := range []struct {
		spread, pass, want time.Duration
		capped             bool
	}{
		{10 * time.Second, 3 * time.Second, 300 * time.Millisecond, true},        // the default on a short fast pass: capped
		{10 * time.Second, 10 * time.Minute, 10 * time.Second, false},            // a long pass keeps it
		{250 * time.Millisecond, 3 * time.Second, 250 * time.Millisecond, false}, // already short enough
		{-1, 3 * time.Second, -1, false},                                         // no jitter stays none
		{10 * time.Second, 0, 10 * time.Second, false},                           // an unknown pass length changes nothing
		{10 * time.Second, 5 * time.Millisecond, time.Millisecond, true},         // at least 1 ms
	} {
		got, capped := cappedSpread(tc.spread, tc.pass)
		if got != tc.want || capped != tc.capped {
			t.Errorf("cappedSpread(%v, %v) = %v, %v; want %v, %v", tc.spread, tc.pass, got, capped, tc.want, tc.capped)
		}
	}
}

func TestSpreadNote(t *testing.T) {
	from := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	p := shaper.Plan{From: from, To: from.Add(30 * time.Second), Speed: 10, Spread: 10 * time.Second}
	if n := spreadNote(p, 3); !strings.Contains(n, "--spread 10s is 333% of the 3s a pass takes") || !strings.Contains(n, "at most 300ms") {
		t.Errorf("spreadNote at 3x = %q", n)
	}
	if n := spreadNote(p, 1); n != "" {
		t.Errorf("spreadNote at 1x (no clones) = %q; want none", n)
	}
	p.Speed = 0.1 // a 300 s pass: 10 s is short enough
	if n := spreadNote(p, 3); n != "" {
		t.Errorf("spreadNote on a long pass = %q; want none", n)
	}
}
