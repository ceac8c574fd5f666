package main

import (
	"strings"
	"testing"
	"time"
)

// TestResolveWindow: every form of --window-from/--window-to against a
// capture of 19:44:59.245 to 20:14:58.987 on 2026-11-21.
func TestResolveWindow(t *testing.T) {
	first := time.Date(2026, 11, 21, 19, 44, 59, 245e6, time.UTC)
	last := time.Date(2026, 11, 21, 20, 14, 58, 987e6, time.UTC)
	at := func(h, m, s int) time.Time { return time.Date(2026, 11, 21, h, m, s, 0, time.UTC) }
	end := last.Add(time.Nanosecond)
	for _, tc := range []struct {
		name     string
		from, to string
		lo, hi   time.Time
		err      string // substring of the error; "" for none
	}{
		// No bounds: the whole capture.
		{name: "whole", lo: first, hi: end},
		// RFC 3339 on both sides.
		{name: "rfc3339", from: "2026-11-21T19:55:00Z", to: "2026-11-21T20:00:00Z", lo: at(19, 55, 0), hi: at(20, 0, 0)},
		// A clock time on the capture's date, and +5m from the window start.
		{name: "clock and relative end", from: "19:55", to: "+5m", lo: at(19, 55, 0), hi: at(20, 0, 0)},
		// Seconds in a clock time.
		{name: "clock seconds", from: "19:55:30", lo: at(19, 55, 30), hi: end},
		// An offset from the capture start on both sides ("5m" without +
		// counts from the capture start, as before).
		{name: "offsets", from: "10m", to: "15m", lo: first.Add(10 * time.Minute), hi: first.Add(15 * time.Minute)},
		// A window wider than the capture is clamped to it.
		{name: "clamped", from: "19:00", to: "21:00", lo: first, hi: end},
		// Wholly after the capture: an error with the capture's range.
		{name: "after", from: "23:55", err: "outside the capture: the capture runs from 2026-11-21T19:44:59.245Z to 2026-11-21T20:14:58.987Z"},
		// Wholly before it.
		{name: "before", from: "2020-01-01T00:00:00Z", to: "2020-01-02T00:00:00Z", err: "outside the capture"},
		// An end before the start.
		{name: "empty", from: "20:00", to: "19:50", err: "is empty"},
		// Not a time at all: the accepted forms are listed.
		{name: "garbage", to: "five", err: `--window-to: window bound "five" is not a time (RFC 3339`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, err := resolveWindow(tc.from, tc.to, first, last)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v; want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !lo.Equal(tc.lo) || !hi.Equal(tc.hi) {
				t.Errorf("window %v .. %v; want %v .. %v", lo, hi, tc.lo, tc.hi)
			}
		})
	}
}
