package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/surge-replay/surge/schema"
)

// textRoutes is how many routes the text report lists.
const textRoutes = 15

// sparkWidth is the most cells a per-second sparkline has.
const sparkWidth = 60

// WriteJSON writes s as indented JSON (see RunSummary for the fields).
func (s *RunSummary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteText writes the report for people: what ran, the counts, intended
// against achieved rate, latency from intended and from send time, the
// generator's lateness, errors by class, the busiest routes, per-second
// sparklines, the cohorts at the surge time, the verdict on the generator
// (Verdict) and, last, the thresholds, whether the run aborted and the
// run's verdict (Settle).
func (s *RunSummary) WriteText(w io.Writer) error {
	var b strings.Builder
	s.writeHeader(&b)
	if s.Scheduled > 0 {
		s.writeCounts(&b)
		s.writeAccounts(&b)
		s.writeLatency(&b)
		s.writeRoutes(&b)
		s.writeRegions(&b)
		s.writeSeries(&b)
		s.writeWebSocket(&b)
		s.writeCohorts(&b)
		writeStorms(&b, s.Storms)
	}
	b.WriteString("\n" + s.Verdict() + "\n")
	s.writeGate(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// Verdict says whether the generator kept up with the schedule, so that a
// saturated load generator is never mistaken for a slow target:
//
//	generator kept up: p99 lateness 0.4 ms
//	GENERATOR FELL BEHIND: p99 lateness 180 ms, 1,204 requests dropped past the deadline — latency figures include generator delay
func (s *RunSummary) Verdict() string {
	switch {
	case s.Scheduled == 0:
		return "no results"
	case s.Sent == 0:
		return fmt.Sprintf("nothing sent: all %s requests dropped", count(s.Dropped))
	case s.GeneratorKeptUp && s.Mode == "closed":
		return fmt.Sprintf("generator kept up: p99 lateness %s ms (closed loop: how late a session woke after its think time; bound %v)", millis(s.Lateness.P99), KeptUpLatenessClosed)
	case s.GeneratorKeptUp:
		return fmt.Sprintf("generator kept up: p99 lateness %s ms", millis(s.Lateness.P99))
	}
	v := fmt.Sprintf("GENERATOR FELL BEHIND: p99 lateness %s ms", millis(s.Lateness.P99))
	if s.Mode == "closed" {
		v += fmt.Sprintf(" after think time (closed-loop bound %v)", KeptUpLatenessClosed)
	}
	if n := s.DroppedBy[schema.DroppedDeadline]; n > 0 {
		v += fmt.Sprintf(", %s requests dropped past the deadline", count(n))
	}
	return v + " — latency figures include generator delay"
}

func (s *RunSummary) writeHeader(b *strings.Builder) {
	b.WriteString("surge replay report\n")
	fmt.Fprintf(b, "  target    %s\n", cmp.Or(s.Target, "-"))
	fmt.Fprintf(b, "  capture   %s\n", cmp.Or(strings.Join(s.Capture, " "), "-"))
	fmt.Fprintf(b, "  run       ratio %s  speed %sx  seed %d  mode %s\n",
		s.RatioText(), num(s.Speed), s.Seed, cmp.Or(s.Mode, "-"))
	start := "-"
	if !s.Start.IsZero() {
		start = s.Start.Format(time.RFC3339)
	}
	dur := time.Duration(s.DurationS * float64(time.Second)).Round(100 * time.Millisecond)
	fmt.Fprintf(b, "  start     %s  duration %s\n", start, dur)
	if s.CaptureLoss != nil {
		fmt.Fprintf(b, "  capture loss  %s\n", s.CaptureLoss)
	}
}

// num formats a ratio, speed or offset a person set (Ratio: no float
// noise).
func num(v float64) string { return Ratio(v) }

func (s *RunSummary) writeCounts(b *strings.Builder) {
	fmt.Fprintf(b, "\n  requests  scheduled %s  sent %s  completed %s  dropped %s\n",
		count(s.Scheduled), count(s.Sent), count(s.Completed), count(s.Dropped))
	fmt.Fprintf(b, "  outcome   ok %s (%s)  errors %s (%s)\n",
		count(s.OK), percent(s.OK, s.Sent), count(s.Sent-s.OK), percent(s.Sent-s.OK, s.Sent))
	achieved := ""
	if s.IntendedRPS > 0 {
		achieved = fmt.Sprintf(" (%.1f%%)", 100*s.AchievedRPS/s.IntendedRPS)
	}
	fmt.Fprintf(b, "  rate      intended %s/s  achieved %s/s%s\n", rate(s.IntendedRPS), rate(s.AchievedRPS), achieved)
	if len(s.ErrorsBy) > 0 {
		fmt.Fprintf(b, "  errors    %s\n", classes(s.ErrorsBy, s.Sent))
	}
	if len(s.DroppedBy) > 0 {
		fmt.Fprintf(b, "  dropped   %s\n", classes(s.DroppedBy, s.Scheduled))
	}
}

// classes lists counts by class, largest first, with their share of of.
func classes(m map[string]int64, of int64) string {
	keys := slices.SortedFunc(maps.Keys(m), func(x, y string) int {
		return cmp.Or(cmp.Compare(m[y], m[x]), cmp.Compare(x, y))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %s (%s)", k, count(m[k]), percent(m[k], of))
	}
	return strings.Join(parts, "  ")
}

func (s *RunSummary) writeLatency(b *strings.Builder) {
	row := func(name string, cells ...string) {
		fmt.Fprintf(b, "  %-16s", name)
		for _, c := range cells {
			fmt.Fprintf(b, "%9s", c)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	row("latency ms", "p50", "p90", "p99", "p99.9", "max")
	for _, r := range []struct {
		name string
		p    Percentiles
	}{{"from intended", s.Latency}, {"from send", s.Service}} {
		row(r.name, millis(r.p.P50), millis(r.p.P90), millis(r.p.P99), millis(r.p.P999), millis(r.p.Max))
	}
	l := s.Lateness
	row("lateness", millis(l.P50), "", millis(l.P99), "", millis(l.Max))
	s.writeConns(b, row)
}

// writeRoutes lists the routes with errors first (most errors first), then
// the others by volume, up to TextRoutes.
func (s *RunSummary) writeRoutes(b *strings.Builder) {
	if len(s.Routes) == 0 {
		return
	}
	routes := slices.Clone(s.Routes) // by volume, as in the JSON
	slices.SortStableFunc(routes, func(x, y RouteSummary) int {
		return cmp.Compare(y.Errors, x.Errors)
	})
	n := len(routes)
	switch {
	case s.TextRoutes == 0:
		n = min(n, textRoutes)
	case s.TextRoutes > 0:
		n = min(n, s.TextRoutes)
	}
	what := fmt.Sprintf("top %d of %d", n, len(routes))
	if n == len(routes) {
		what = fmt.Sprintf("all %d", n)
	}
	fmt.Fprintf(b, "\n  routes (%s: with errors first, then by volume; latency from intended)\n", what)
	fmt.Fprintf(b, "  %11s %8s %9s %9s  %s\n", "scheduled", "err", "p50 ms", "p99 ms", "route")
	for _, r := range routes[:n] {
		fmt.Fprintf(b, "  %11s %8s %9s %9s  %s\n", count(r.Scheduled), percent(r.Errors, r.Sent),
			millis(r.Latency.P50), millis(r.Latency.P99), r.Route)
	}
	if n < len(routes) {
		fmt.Fprintf(b, "  ... %s more (--routes 0 lists every route)\n", count(int64(len(routes)-n)))
	}
}

// writeSeries draws the per-second series: intended and sent rates on one
// scale, so a generator falling behind shows as a gap between them, and the
// p99 latency.
func (s *RunSummary) writeSeries(b *strings.Builder) {
	if len(s.PerSecond) < 2 {
		return
	}
	intended := make([]float64, len(s.PerSecond))
	sent := make([]float64, len(s.PerSecond))
	errs := make([]float64, len(s.PerSecond))
	p99 := make([]float64, len(s.PerSecond))
	for i, sec := range s.PerSecond {
		intended[i], sent[i], errs[i], p99[i] = float64(sec.Intended), float64(sec.Sent), float64(sec.Errors), sec.P99MS
	}
	intended, sent, errs = cells(intended, mean), cells(sent, mean), cells(errs, mean)
	p99 = cells(p99, slices.Max[[]float64])
	peak := max(slices.Max(intended), slices.Max(sent))
	step := (len(s.PerSecond) + sparkWidth - 1) / sparkWidth
	fmt.Fprintf(b, "\n  per second (%d s, %d s a cell)\n", len(s.PerSecond), step)
	if axis := s.captureAxis(len(intended), step); axis != "" {
		fmt.Fprintf(b, "  capture   %s\n", axis)
	}
	fmt.Fprintf(b, "  intended  %s  peak %s/s\n", bars(intended, peak), rate(slices.Max(intended)))
	fmt.Fprintf(b, "  sent      %s  peak %s/s\n", bars(sent, peak), rate(slices.Max(sent)))
	fmt.Fprintf(b, "  errors    %s  peak %s/s\n", bars(errs, slices.Max(errs)), rate(slices.Max(errs)))
	fmt.Fprintf(b, "  p99 ms    %s  peak %s\n", bars(p99, slices.Max(p99)), millis(slices.Max(p99)))
}

// captureAxis labels the series with the capture's clock (HH:MM, or
// HH:MM:SS when the run covers less than ten capture minutes): the time of
// the first cell at the left, then a label every 15 cells while it fits.
// Second t of the run is capture time WindowFrom + t × speed. Empty when
// the window start is unknown.
func (s *RunSummary) captureAxis(ncells, step int) string {
	if s.WindowFrom.IsZero() || ncells < 2 {
		return ""
	}
	speed := s.Speed
	if speed <= 0 {
		speed = 1
	}
	t0 := s.PerSecond[0].T
	at := func(cell int) time.Time {
		sec := t0 + int64(cell*step)
		return s.WindowFrom.Add(time.Duration(float64(sec) * speed * float64(time.Second)))
	}
	layout := "15:04"
	if at(ncells-1).Sub(at(0)) < 10*time.Minute {
		layout = "15:04:05"
	}
	row := []rune(strings.Repeat(" ", ncells+len(layout)))
	for cell := 0; cell < ncells; cell += 15 {
		label := at(cell).Format(layout)
		if cell > 0 && cell+len(label) > ncells+len(layout) {
			break
		}
		copy(row[cell:], []rune(label))
	}
	return strings.TrimRight(string(row), " ")
}

// cells folds vals into at most sparkWidth cells of equal length.
func cells(vals []float64, fold func([]float64) float64) []float64 {
	step := (len(vals) + sparkWidth - 1) / sparkWidth
	var out []float64
	for i := 0; i < len(vals); i += step {
		out = append(out, fold(vals[i:min(i+step, len(vals))]))
	}
	return out
}

func mean(vals []float64) float64 {
	var sum float64
	for _, v := range vals {
		sum += v
	}
	return sum / float64(len(vals))
}

// bars draws vals as a sparkline scaled to peak; zero is a blank.
func bars(vals []float64, peak float64) string {
	levels := []rune("▁▂▃▄▅▆▇█")
	var b strings.Builder
	for _, v := range vals {
		switch {
		case v <= 0 || peak <= 0:
			b.WriteByte(' ')
		default:
			i := int(v / peak * float64(len(levels)-1))
			b.WriteRune(levels[min(i, len(levels)-1)])
		}
	}
	return b.String()
}
