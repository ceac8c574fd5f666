package profile

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/report"
)

// plotLines is how many series a chart of routes or transitions draws.
const plotLines = 8

// figure is one chart of Plot: its file name (without .svg), title, and
// the SVG.
type figure struct {
	Name, Title, Note string
	SVG               template.HTML
	Legend            []legendItem
}

// legendItem is a line's name and color.
type legendItem struct{ Name, Color string }

// Plot writes p's charts into dir, one SVG file each, and index.html, one
// self-contained page (inline SVG and CSS, no scripts or outside
// resources) with all of them, the notable moments and the status mix. It
// returns the files written, index.html last. Each file is written to a
// temporary file beside it and renamed.
func Plot(dir string, p *Profile) ([]string, error) {
	if err := os.MkdirAll(dir, eventlog.DirPerm()); err != nil {
		return nil, fmt.Errorf("profile: plot: %w", err)
	}
	figs := figures(p)
	var files []string
	for _, f := range figs {
		path := filepath.Join(dir, f.Name+".svg")
		if err := writeAtomic(path, []byte(f.SVG)); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, pageData{P: p, Figures: figs, Routes: statusRows(p)}); err != nil {
		return files, fmt.Errorf("profile: plot: %w", err)
	}
	path := filepath.Join(dir, "index.html")
	if err := writeAtomic(path, b.Bytes()); err != nil {
		return files, err
	}
	return append(files, path), nil
}

// writeAtomic writes data to a temporary file beside path and renames it.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), eventlog.FilePerm())
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("profile: %s: %w", path, err)
	}
	return nil
}

// figures makes every chart of p.
func figures(p *Profile) []figure {
	start := p.Meta.Start
	clock := func(x float64) string { return start.Add(time.Duration(x * float64(time.Second))).Format("15:04") }
	var markers []report.Marker
	for _, m := range p.Moments {
		markers = append(markers, report.Marker{T: m.Time.Sub(start).Seconds(), Label: fmt.Sprintf("%s %+.0f%%", m.Curve, 100*m.Change)})
	}
	minutesX := make([]float64, p.Meta.Minutes)
	for i := range minutesX {
		minutesX[i] = float64(i * 60)
	}
	ints := func(v []int64) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	var figs []figure
	add := func(name, title, unit, note string, lines []report.Line, marks []report.Marker, xlabel func(float64) string) {
		f := figure{Name: name, Title: title, Note: note, SVG: report.LineChart(name, title, unit, lines, marks, xlabel)}
		for i, l := range lines {
			f.Legend = append(f.Legend, legendItem{l.Name, report.LineColor(i)})
		}
		figs = append(figs, f)
	}
	add("arrivals", "New sessions per minute", "sessions/min", "arrivals of new sessions; dashed lines: notable moments",
		[]report.Line{{Name: "new sessions", X: minutesX, Y: ints(p.ArrivalCurve())}}, markers, clock)
	add("requests", "Requests per minute", "requests/min", "all requests and the largest route groups",
		append([]report.Line{{Name: "all", X: minutesX, Y: ints(p.RequestCurve())}}, routeLines(p, minutesX, ints)...), markers, clock)
	secX := make([]float64, len(p.Concurrency))
	secY := make([]float64, len(p.Concurrency))
	for i, r := range p.Concurrency {
		secX[i], secY[i] = float64(i), float64(r.Live)
	}
	add("concurrency", "Concurrency", "live sessions", "sessions between their first and last request, per second",
		[]report.Line{{Name: "live sessions", X: secX, Y: secY}}, markers, clock)
	for _, d := range []string{DimRegion, DimDevice, DimProtocol} {
		add("mix-"+d, "Requests by "+d, "% of requests", "each value's share of the minute's requests", mixLines(p, d, minutesX), markers, clock)
	}
	logMS := func(x float64) string { return ms(math.Pow(10, x)) }
	logN := func(x float64) string { return fmt.Sprintf("%.0f", math.Pow(10, x)) }
	var lengths, counts []report.Line
	for _, c := range p.Meta.Classes {
		lengths = append(lengths, cdfLine(c, p.SessionLengths(c)))
		counts = append(counts, cdfLine(c, p.RequestsPerSession(c)))
	}
	add("session-length", "Session length", "% of sessions ≤", "cumulative, by class (log scale)", lengths, nil, logMS)
	add("session-requests", "Requests per session", "% of sessions ≤", "cumulative, by class (log scale)", counts, nil, logN)
	add("think-time", "Think time by route transition", "% of gaps ≤", "cumulative, the most frequent transitions (log scale)", thinkLines(p), nil, logMS)
	return figs
}

func routeLines(p *Profile, xs []float64, ints func([]int64) []float64) []report.Line {
	var out []report.Line
	for i, s := range p.RouteMix() {
		if i == plotLines-1 {
			break
		}
		out = append(out, report.Line{Name: s.Value, X: xs, Y: ints(p.RouteCurve(s.Value))})
	}
	return out
}

func mixLines(p *Profile, dim string, xs []float64) []report.Line {
	total := p.RequestCurve()
	var out []report.Line
	for i, s := range p.MixOf(dim) {
		if i == plotLines {
			break
		}
		y := make([]float64, len(xs))
		for m := range y {
			y[m] = math.NaN()
		}
		for _, r := range p.Mix {
			if r.Dimension == dim && r.Value == s.Value {
				if m := p.minute(r.Time); m >= 0 && m < len(y) && total[m] > 0 {
					y[m] = 100 * float64(r.Requests) / float64(total[m])
				}
			}
		}
		for m := range y {
			if math.IsNaN(y[m]) && total[m] > 0 {
				y[m] = 0
			}
		}
		out = append(out, report.Line{Name: s.Value, X: xs, Y: y})
	}
	return out
}

// cdfLine is a histogram's cumulative share (%) at each bucket's upper
// bound, x in log10 units.
func cdfLine(name string, h []Bucket) report.Line {
	var total int64
	for _, b := range h {
		total += b.Count
	}
	l := report.Line{Name: name}
	var seen int64
	for _, b := range h {
		seen += b.Count
		l.X = append(l.X, math.Log10(float64(max(b.Upper, 1))))
		l.Y = append(l.Y, 100*float64(seen)/float64(total))
	}
	return l
}

func thinkLines(p *Profile) []report.Line {
	counts := map[[2]string]int64{}
	for _, r := range p.ThinkTime {
		counts[[2]string{r.From, r.To}] += r.Count
	}
	var shares []Share
	keys := map[string][2]string{}
	for k, n := range counts {
		name := k[0] + " → " + k[1]
		keys[name] = k
		shares = append(shares, Share{Value: name, Count: n})
	}
	var out []report.Line
	for i, s := range sortShares(shares) {
		if i == plotLines {
			break
		}
		k := keys[s.Value]
		out = append(out, cdfLine(s.Value, p.ThinkTimes(k[0], k[1])))
	}
	return out
}

func sortShares(s []Share) []Share {
	m := map[string]int64{}
	for _, x := range s {
		m[x.Value] = x.Count
	}
	return shares(m)
}

// statusRow is a route's status mix on the page.
type statusRow struct {
	Route    string
	Requests int64
	Mix      string
}

func statusRows(p *Profile) []statusRow {
	var rows []statusRow
	for _, s := range p.RouteMix() {
		rows = append(rows, statusRow{Route: s.Value, Requests: s.Count, Mix: shareList(p.StatusMix(s.Value), 6)})
	}
	return rows
}

type pageData struct {
	P       *Profile
	Figures []figure
	Routes  []statusRow
}

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"count": report.Count,
	"css":   func(s string) template.CSS { return template.CSS(s) }, // report's palette: fixed #rrggbb colors
	"clock": func(t time.Time) string { return t.Format("2006-01-02 15:04:05") },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Traffic profile {{clock .P.Meta.First}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;max-width:1000px;color:#222;padding:0 1em}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.6em 0 .2em}
.note{color:#666;margin:0 0 .4em}svg.chart{width:100%;height:auto;display:block}
table{border-collapse:collapse;margin:.4em 0}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #eee;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}code{font-size:.95em}
.legend{margin:.2em 0 0 62px;font-size:12px;color:#444}.legend span{margin-right:1em;white-space:nowrap}
.legend i{display:inline-block;width:12px;height:3px;margin-right:4px;vertical-align:middle}
</style></head><body>
<h1>Traffic profile</h1>
<p class="note">{{range $i, $c := .P.Meta.Capture}}{{if $i}}, {{end}}<code>{{$c}}</code>{{end}} ·
{{clock .P.Meta.First}} – {{clock .P.Meta.Last}} UTC ·
{{count .P.Meta.Requests}} requests · {{count .P.Meta.Sessions}} sessions · peak concurrency {{count .P.Meta.PeakConcurrency}}</p>
<h2>Notable moments</h2>
{{if .P.Moments}}<ul id="moments">{{range .P.Moments}}<li>{{.Description}}</li>{{end}}</ul>
{{else}}<p id="moments">None: no change of {{.P.Meta.Parameters.MomentChange}} or more within {{.P.Meta.Parameters.MomentWindow}} minutes.</p>{{end}}
{{range .Figures}}<h2>{{.Title}}</h2><p class="note">{{.Note}}</p>
{{.SVG}}
<p class="legend">{{range .Legend}}<span><i style="background:{{.Color | css}}"></i>{{.Name}}</span> {{end}}</p>
{{end}}
<h2>Status by route</h2>
<table id="status"><tr><th>route</th><th>requests</th><th>status mix</th></tr>
{{range .Routes}}<tr><td><code>{{.Route}}</code></td><td class="n">{{count .Requests}}</td><td>{{.Mix}}</td></tr>
{{end}}</table>
</body></html>
`))
