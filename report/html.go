package report

import (
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed html.tmpl
var htmlTemplate string

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":    func(v float64) string { return millis(v) },
	"num":   func(v float64) string { return num(v) },
	"count": func(v int64) string { return count(v) },
	"pct":   func(n, d int64) string { return percent(n, d) },
	"rfc":   func(t time.Time) string { return t.Format(time.RFC3339) },
	"raw":   func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) },
	"fig":   Fig,
	"verdictText": func(v string) string {
		if t, ok := verdictText[v]; ok {
			return t
		}
		return v
	},
}).Parse(htmlTemplate))

// HTMLReport is what the HTML report shows: the run's summary, its
// per-second series and the events marked on its time axes.
type HTMLReport struct {
	// Title heads the page; empty means "surge report".
	Title   string
	Summary *RunSummary
	// Series are the charts' data: a Timeline's (NewTimeline, TimelineOf),
	// or SeriesOf(Summary) when only the summary is known. Nil means
	// SeriesOf(Summary).
	Series *TimelineSeries
	// Markers are drawn on every time axis, besides the surge time and the
	// abort that the summary records.
	Markers []Marker
	// Live makes the page the live view's: it connects to /events (server-
	// sent events) and redraws itself each second.
	Live bool
	// Running says the run is not over: the summary is the figures so far,
	// shown without a verdict.
	Running bool
}

// htmlData is the template's view of an HTMLReport.
type htmlData struct {
	*HTMLReport
	S       *RunSummary
	Charts  []*chart
	Errors  []classCount
	Regions []htmlRegion
}

// htmlRegion is a row of the Regions table: the timeline's region and its
// error classes from the summary (regionClasses).
type htmlRegion struct {
	RegionSummary
	Classes string
}

type classCount struct {
	Class string
	N     int64
}

// WriteHTML writes r as one self-contained HTML page: no script, style or
// font is fetched from anywhere, so it opens offline and can be mailed. Its
// charts are inline SVG rendered here; the only script sorts the tables and,
// for the live view, reloads the page's data.
func (r *HTMLReport) WriteHTML(w io.Writer) error {
	if r.Summary == nil {
		return fmt.Errorf("report: html: no summary")
	}
	d := htmlData{HTMLReport: r, S: r.Summary, Charts: r.charts()}
	if d.Title == "" {
		d.Title = "surge report"
	}
	for _, k := range slices.Sorted(maps.Keys(r.Summary.ErrorsBy)) {
		d.Errors = append(d.Errors, classCount{k, r.Summary.ErrorsBy[k]})
	}
	for _, k := range slices.Sorted(maps.Keys(r.Summary.DroppedBy)) {
		d.Errors = append(d.Errors, classCount{k, r.Summary.DroppedBy[k]})
	}
	slices.SortStableFunc(d.Errors, func(x, y classCount) int { return cmp.Compare(y.N, x.N) })
	if s := r.series(); len(s.Regions) > 1 || (len(s.Regions) == 1 && s.Regions[0].Region != "-") {
		classes := regionClasses(r.Summary)
		for _, rg := range s.Regions {
			d.Regions = append(d.Regions, htmlRegion{rg, classes[rg.Region]})
		}
	}
	return htmlPage.Execute(w, d)
}

func (r *HTMLReport) series() *TimelineSeries {
	if r.Series != nil {
		return r.Series
	}
	return SeriesOf(r.Summary)
}

// markers returns r's markers with the summary's: its surge time and, for an
// aborted run, the abort at the last second anything was sent.
func (r *HTMLReport) markers(s *TimelineSeries) []Marker {
	ms := slices.Clone(r.Markers)
	if c := r.Summary.Cohorts; c != nil {
		ms = append(ms, Marker{T: c.OffsetS, Label: "surge"})
	} else if i := r.Summary.Surge; i != nil {
		ms = append(ms, Marker{T: i.OffsetS, Label: "surge"})
	}
	ms = append(ms, stormMarkers(r.Summary)...)
	if r.Summary.Aborted {
		for i := len(s.T) - 1; i >= 0; i-- {
			if s.Sent[i] > 0 {
				ms = append(ms, Marker{T: s.T[i], Label: "aborted"})
				break
			}
		}
	}
	slices.SortStableFunc(ms, func(x, y Marker) int { return cmp.Compare(x.T, y.T) })
	return ms
}

// charts returns the report's time charts; a chart whose data the series
// lacks is kept with a note, so the page says what it cannot show.
func (r *HTMLReport) charts() []*chart {
	s := r.series()
	ms := r.markers(s)
	x0, x1 := 0.0, 1.0
	if len(s.T) > 0 {
		x0, x1 = s.T[0], s.T[len(s.T)-1]+1
	}
	mk := func(id, title, unit string, names []string, cols ...[]float64) *chart {
		c := &chart{ID: id, Title: title, Unit: unit, Markers: ms, X0: x0, X1: x1}
		for i, col := range cols {
			if len(col) == 0 {
				continue
			}
			c.Lines = append(c.Lines, chartLine{Name: names[i], Color: palette[i%len(palette)], X: s.T, Y: col})
		}
		if len(c.Lines) < len(cols) {
			c.Note = "some series are not in this report's source (a merged fleet report keeps only the per-second summary)"
		}
		if len(c.Lines) == 0 {
			c.Note = "not in this report's source (a merged fleet report keeps only the per-second summary)"
		}
		return c
	}
	errNames := s.ErrClass
	charts := []*chart{
		mk("rate", "Requests per second: intended vs achieved", "req/s", []string{"intended", "sent (achieved)", "ok"}, s.Intended, s.Sent, s.OK),
		mk("latency", "Latency from the intended time (what a user waits, no coordinated omission)", "ms", []string{"p50", "p90", "p99"}, s.LatP50, s.LatP90, s.LatP99),
		mk("service", "Latency from the send (the target's service time)", "ms", []string{"p50", "p99"}, s.SvcP50, s.SvcP99),
		mk("errors", "Errors and drops per second, by class", "req/s", errNames, s.ErrBy...),
		mk("lateness", "Generator lateness (send − intended): the generator's own delay", "ms", []string{"p50", "p99", "max"}, s.LateP50, s.LateP99, s.LateMax),
		mk("connections", "Connections opened and requests that waited for one, per second", "per s", []string{"opened", "waited (client queueing)"}, s.Opened, s.Queued),
		mk("queue", "Client queueing: time waited inside surge for a connection", "ms", []string{"p99", "max"}, s.QueueP99, s.QueueMax),
	}
	if c := stormChart(r.Summary, ms, x0, x1); c != nil {
		charts = append(charts, c)
	}
	if len(errNames) == 0 {
		charts[3].Note = "no errors or drops"
		charts[3].Lines = []chartLine{{Name: "errors", Color: palette[1], X: s.T, Y: make([]float64, len(s.T))}}
	}
	return charts
}

// SummaryHTML returns the page's summary block (verdict, thresholds,
// headline figures): what the live view replaces each second.
func (r *HTMLReport) SummaryHTML() (string, error) {
	var b strings.Builder
	err := htmlPage.ExecuteTemplate(&b, "summary", htmlData{HTMLReport: r, S: r.Summary})
	return b.String(), err
}

// ChartSVGs returns each chart of the report as SVG, by its id: what the
// live view replaces in the page each second.
func (r *HTMLReport) ChartSVGs() map[string]string {
	out := map[string]string{}
	for _, c := range r.charts() {
		out[c.ID] = string(c.SVG())
	}
	return out
}
