package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// windowForms says in words what a window bound accepts.
const windowForms = "a time (RFC 3339, 2026-11-21T19:55:00Z), a clock time on the capture's first day (19:55, 19:55:30) or an offset from the capture start (10m, +1h30m)"

// clockLayouts are the clock-time forms of a window bound.
var clockLayouts = []string{"15:04", "15:04:05", "15:04:05.999999999"}

// windowBound resolves one bound against base: an RFC 3339 time as given, a
// clock time on first's date (in first's zone), an offset added to base.
// The error says which forms are accepted.
func windowBound(s string, first, base time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range clockLayouts {
		if c, err := time.Parse(layout, s); err == nil {
			y, m, d := first.Date()
			return time.Date(y, m, d, c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), first.Location()), nil
		}
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "+")); err == nil {
		return base.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("window bound %q is not %s", s, windowForms)
}

// resolveWindow turns --window-from/--window-to (either may be empty) into
// the half-open window [lo, hi) of a capture whose events lie in
// [first, last]. An offset in from counts from the capture start; in to,
// "+5m" counts from the window's start and "5m" from the capture start. An
// empty bound is the capture's own (hi = last + 1ns); a window reaching
// past the capture is clamped to it. It returns an error when the window is
// empty or lies wholly outside the capture, printing the capture's range.
func resolveWindow(from, to string, first, last time.Time) (lo, hi time.Time, err error) {
	lo, hi = first, last.Add(time.Nanosecond)
	if from != "" {
		if lo, err = windowBound(from, first, first); err != nil {
			return lo, hi, fmt.Errorf("--window-from: %w", err)
		}
	}
	if to != "" {
		base := first
		if strings.HasPrefix(to, "+") {
			base = lo
		}
		if hi, err = windowBound(to, first, base); err != nil {
			return lo, hi, fmt.Errorf("--window-to: %w", err)
		}
	}
	span := fmt.Sprintf("the capture runs from %s to %s", fmtTime(first), fmtTime(last))
	end := last.Add(time.Nanosecond)
	if !lo.Before(end) || !hi.After(first) {
		return lo, hi, fmt.Errorf("window %s to %s is outside the capture: %s", fmtTime(lo), fmtTime(hi), span)
	}
	if !hi.After(lo) {
		return lo, hi, fmt.Errorf("window %s to %s is empty; %s", fmtTime(lo), fmtTime(hi), span)
	}
	// A window wider than the capture is clamped to it: its empty edges
	// would only add silence to the schedule (a start a year early would
	// wait a year).
	if lo.Before(first) {
		lo = first
	}
	if hi.After(end) {
		hi = end
	}
	return lo, hi, nil
}

// fmtTime prints a time to the millisecond, in its own zone.
func fmtTime(t time.Time) string { return t.Format("2006-01-02T15:04:05.000Z07:00") }

// captureRange returns the time of the first and last event of the capture
// files or directories, and refuses files that do not hold exchanges. Like
// surge inspect's time range it leaves out the starts of long-lived
// connections (eventlog.FileInfo.RequestsFirst): a WebSocket opened hours
// before a ten-second log would otherwise make the default window, and
// the replay, hours long. Such a connection that began before the window
// is outside it and not replayed.
func captureRange(paths []string) (first, last time.Time, err error) {
	files, err := eventlog.Files(paths, eventlog.Range{})
	if err != nil {
		return first, last, err
	}
	for _, f := range files {
		info, err := eventlog.Stat(f)
		if err != nil {
			return first, last, err
		}
		if info.Kind != schema.KindExchange {
			return first, last, fmt.Errorf("%s holds %s events; a capture of exchanges is needed", f, info.Kind)
		}
		if info.Events > 0 && (first.IsZero() || info.RequestsFirst.Before(first)) {
			first = info.RequestsFirst
		}
		if info.RequestsLast.After(last) {
			last = info.RequestsLast
		}
	}
	if first.IsZero() {
		return first, last, fmt.Errorf("%s: no events", strings.Join(paths, ", "))
	}
	return first, last, nil
}
