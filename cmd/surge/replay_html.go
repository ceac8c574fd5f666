package main

import (
	"fmt"
	"io"
	"time"

	"github.com/surge-replay/surge/report"
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
func (o *replayOptions) writeHTML(stderr io.Writer, s *report.RunSummary, tl *report.Timeline) error {
	if o.html == "" {
		return nil
	}
	if err := writeHTMLReport(o.html, &report.HTMLReport{Summary: s, Series: tl.Series()}); err != nil {
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
