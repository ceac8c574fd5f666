package report

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the summary for people: counts, time range, rate with a
// per-minute sparkline, status mix, top routes and import problems.
func (s *Summary) WriteText(w io.Writer) error {
	files := "1 file"
	if s.Files != 1 {
		files = count(int64(s.Files)) + " files"
	}
	fmt.Fprintf(w, "%s: %s events from %s, source %s\n", strings.Join(s.Paths, " "), s.Kind, files, strings.Join(s.Sources, ", "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, "  "+format+"\n", args...) }
	approx := ""
	if !s.Exact {
		approx = " (estimated)"
	}
	p("events\t%s", count(s.Events))
	p("sessions\t%s%s", count(s.Sessions), approx)
	p("users\t%s%s", count(s.Users), approx)
	if s.Events > 0 {
		p("time range\t%s .. %s (%s)", s.First.Format(msTime), s.Last.Format(msTime), time.Duration(s.DurationS*float64(time.Second)).Round(time.Millisecond))
		p("rate\tpeak %s/min at %s, mean %s/min", count(s.PeakRPM), s.PeakMinute.Format("15:04"), count(int64(s.MeanRPM+0.5)))
		p("per minute\t%s", sparkline(s.PerMinute, 120))
	}
	if len(s.Status) > 0 {
		var parts []string
		for _, class := range []string{"1xx", "2xx", "3xx", "4xx", "5xx", "unknown"} {
			if n := s.Status[class]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %.1f%%", class, 100*float64(n)/float64(s.Events)))
			}
		}
		p("status\t%s", strings.Join(parts, "  "))
	}
	if s.TimeResolution != "" {
		p("time resolution\t%s (replay spreads requests sharing an instant over it)", s.TimeResolution)
	}
	if s.TruncatedBodies > 0 {
		p("truncated bodies\t%s events with a body kept in part (replay skips them as dropped_truncated; --send-truncated sends them as kept)", count(s.TruncatedBodies))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.TopRoutes) > 0 {
		fmt.Fprintln(w, "  top routes")
		for _, r := range s.TopRoutes {
			fmt.Fprintf(tw, "    %s\t%.1f%%\t%s\n", count(r.Count), 100*r.Share, r.Route)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, raw := range s.Imports {
		writeImport(w, raw)
	}
	if s.CaptureLoss != nil {
		WriteCaptureLoss(w, s.CaptureLoss)
	}
	return nil
}

// WriteCaptureLoss states what a capture tap recorded and lost, from its
// schema.MetaCaptureLoss JSON; it writes nothing for JSON it cannot read.
func WriteCaptureLoss(w io.Writer, raw json.RawMessage) {
	var l struct {
		Source       string           `json:"source"`
		Exchanges    int64            `json:"exchanges"`
		Frames       int64            `json:"frames"`
		Dropped      int64            `json:"dropped"`
		DroppedBy    map[string]int64 `json:"dropped_by"`
		SampledOut   int64            `json:"sampled_out"`
		Sample       float64          `json:"sample"`
		OutputErrors int64            `json:"output_errors"`
	}
	if json.Unmarshal(raw, &l) != nil {
		return
	}
	by := ""
	if len(l.DroppedBy) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(l.DroppedBy)) {
			parts = append(parts, fmt.Sprintf("%s %s", k, count(l.DroppedBy[k])))
		}
		by = " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintf(w, "  capture (%s): %s exchanges, %s frames recorded, %s dropped%s, %s sampled out (sample %g), %s output errors\n",
		l.Source, count(l.Exchanges), count(l.Frames), count(l.Dropped), by, count(l.SampledOut), l.Sample, count(l.OutputErrors))
	if total := l.Exchanges + l.Frames + l.Dropped; l.Dropped > 0 && total > 0 {
		fmt.Fprintf(w, "  capture loss: %.2f%% of the events the tap saw were not recorded; rates computed from this capture are low by that much\n",
			100*float64(l.Dropped)/float64(total))
	}
}

// importFacts is what the text form shows of an import report.
type importFacts struct {
	Format        string `json:"format"`
	Records       int64  `json:"records"`
	Events        int64  `json:"events"`
	Skipped       int64  `json:"skipped"`
	Disordered    int64  `json:"disordered"`
	MaxDisorderMS int64  `json:"max_disorder_ms"`
	Late          int64  `json:"late"`
	Truncated     int64  `json:"truncated"`
	TruncatedAt   []struct {
		File   string `json:"file"`
		Line   int64  `json:"line"`
		Offset int64  `json:"offset"`
		Reason string `json:"reason"`
	} `json:"truncated_at"`
	Problems []struct {
		File   string `json:"file"`
		Line   int64  `json:"line"`
		Offset int64  `json:"offset"`
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"problems"`
}

func writeImport(w io.Writer, raw json.RawMessage) {
	var f importFacts
	if json.Unmarshal(raw, &f) != nil {
		return
	}
	fmt.Fprintf(w, "  import (%s): %s records, %s events, %s skipped, %s disordered (max %s), %s late\n",
		f.Format, count(f.Records), count(f.Events), count(f.Skipped), count(f.Disordered),
		(time.Duration(f.MaxDisorderMS) * time.Millisecond).String(), count(f.Late))
	for _, pr := range f.Problems {
		at := fmt.Sprintf("%s (offset %d)", pr.File, pr.Offset)
		if pr.Line > 0 {
			at = fmt.Sprintf("%s:%d (offset %d)", pr.File, pr.Line, pr.Offset)
		}
		if pr.Field != "" {
			at += ": " + pr.Field
		}
		fmt.Fprintf(w, "    %s: %s\n", at, pr.Reason)
	}
	if n := f.Skipped - int64(len(f.Problems)); n > 0 {
		fmt.Fprintf(w, "    ... and %s more\n", count(n))
	}
	if f.Truncated > 0 {
		fmt.Fprintf(w, "  import: %s requests with a body kept in part\n", count(f.Truncated))
		for _, t := range f.TruncatedAt {
			at := fmt.Sprintf("%s (offset %d)", t.File, t.Offset)
			if t.Line > 0 {
				at = fmt.Sprintf("%s:%d (offset %d)", t.File, t.Line, t.Offset)
			}
			fmt.Fprintf(w, "    %s: %s\n", at, t.Reason)
		}
		if n := f.Truncated - int64(len(f.TruncatedAt)); n > 0 {
			fmt.Fprintf(w, "    ... and %s more\n", count(n))
		}
	}
}

// sparkline draws counts as bars, averaging neighbours down to width.
func sparkline(counts []int64, width int) string {
	if len(counts) == 0 {
		return ""
	}
	step := (len(counts) + width - 1) / width
	var cells []int64
	for i := 0; i < len(counts); i += step {
		var sum int64
		for _, c := range counts[i:min(i+step, len(counts))] {
			sum += c
		}
		cells = append(cells, sum)
	}
	peak := slices.Max(cells)
	bars := []rune("▁▂▃▄▅▆▇█")
	var b strings.Builder
	for _, c := range cells {
		i := 0
		if peak > 0 {
			i = int(c * int64(len(bars)-1) / peak)
		}
		b.WriteRune(bars[i])
	}
	return b.String()
}

// count formats n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + count(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Sparkline draws counts as bars (▁ to █, scaled to the largest), averaging
// neighbours down to at most width cells.
func Sparkline(counts []int64, width int) string { return sparkline(counts, width) }

// Count formats n with thousands separators (46,497).
func Count(n int64) string { return count(n) }

// msTime prints a time to the millisecond (RFC 3339).
const msTime = "2006-01-02T15:04:05.000Z07:00"
