package main

import (
	"fmt"
	"io"
	"time"

	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/shaper"
)

// timeline returns the per-second series the HTML report draws, or nil
// (which takes no results) when no HTML report is asked for.
func (o *replayOptions) timeline() *report.Timeline {
	if o.html == "" && o.web == "" {
		return nil
	}
	return report.NewTimeline(time.Time{})
}

// writeHTML writes the run's HTML report to --html, if asked for, and says
// where on stderr.
func (o *replayOptions) writeHTML(stderr io.Writer, s *report.RunSummary, tl *report.Timeline, ctls []shaper.Control) error {
	if o.html == "" {
		return nil
	}
	if err := writeHTMLReport(o.html, &report.HTMLReport{Summary: s, Series: tl.Series(), Markers: controlMarkers(ctls, s.Start)}); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "html report: %s\n", o.html)
	return nil
}

// writeHTMLReport writes r to path through a temporary file.
func writeHTMLReport(path string, r *report.HTMLReport) error {
	if err := writeAtomic(path, r.WriteHTML); err != nil {
		return fmt.Errorf("--html %s: %w", path, err)
	}
	return nil
}

// controlMarkers places a run's control events on the report's time axes
// (seconds from the run's start): at the wall time each was made, when
// recorded, else at its schedule offset.
func controlMarkers(ctls []shaper.Control, start time.Time) []report.Marker {
	var ms []report.Marker
	for _, c := range ctls {
		t := c.At.Seconds()
		if !c.Issued.IsZero() && !start.IsZero() {
			t = max(c.Issued.Sub(start).Seconds(), 0)
		}
		label := c.Op
		if c.Op == shaper.OpSet && c.Set != nil && c.Set.Ratio != nil {
			label = fmt.Sprintf("ratio %gx", *c.Set.Ratio)
		}
		ms = append(ms, report.Marker{T: t, Label: label})
	}
	return ms
}
