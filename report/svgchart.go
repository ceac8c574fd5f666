package report

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Marker is an event drawn on every time axis of the HTML report: the surge
// time, an abort, a control event. T is in seconds from the run's start.
type Marker struct {
	T     float64 `json:"t"`
	Label string  `json:"label"`
}

// chartLine is one series of a chart.
type chartLine struct {
	Name  string
	Color string
	X, Y  []float64
}

// chart is one time chart of the HTML report, rendered as inline SVG.
type chart struct {
	ID, Title, Unit string
	Note            string // shown under the title
	Lines           []chartLine
	Markers         []Marker
	// X0, X1 is the time axis, shared by every chart of a report so they
	// line up.
	X0, X1 float64
	// XLabel formats an x tick; nil means a time (m:ss) with time steps.
	XLabel func(float64) string
}

// Line is one series of a LineChart.
type Line struct {
	Name string
	X, Y []float64
}

// LineChart renders an SVG line chart of any x axis (not time): what the
// capacity search draws, ratio against p99 and errors. Markers are drawn
// as on the report's time charts.
func LineChart(id, title, unit string, lines []Line, markers []Marker, xlabel func(float64) string) template.HTML {
	c := &chart{ID: id, Title: title, Unit: unit, Markers: markers, XLabel: xlabel}
	first := true
	for i, l := range lines {
		c.Lines = append(c.Lines, chartLine{Name: l.Name, Color: palette[i%len(palette)], X: l.X, Y: l.Y})
		for _, x := range l.X {
			if first || x < c.X0 {
				c.X0 = x
			}
			if first || x > c.X1 {
				c.X1 = x
			}
			first = false
		}
	}
	pad := (c.X1 - c.X0) * 0.03
	c.X0, c.X1 = c.X0-pad, c.X1+pad
	return c.SVG()
}

// The SVG's geometry, in user units (the SVG scales to the page's width).
const (
	svgW, svgH                 = 960, 230
	padL, padR, padT, padB     = 62, 14, 10, 26
	plotW                      = svgW - padL - padR
	plotH                      = svgH - padT - padB
	chartTicks                 = 5
	chartFont                  = 11
	markerColor                = "#8a2be2"
	gridColor, axisColor, text = "#e5e5e5", "#999", "#444"
)

// LineColor returns the color of a chart's i-th line (from 0), for a
// legend drawn beside it.
func LineColor(i int) string { return palette[i%len(palette)] }

// palette colors a chart's lines in order.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// empty reports whether no line has a point that is a number.
func (c *chart) empty() bool {
	for _, l := range c.Lines {
		for _, y := range l.Y {
			if !math.IsNaN(y) {
				return false
			}
		}
	}
	return true
}

// SVG renders the chart: grid, axes with ticks, one path per line (NaN
// points break it) and a dashed vertical line per marker.
func (c *chart) SVG() template.HTML {
	var b strings.Builder
	ymax := 0.0
	for _, l := range c.Lines {
		for _, y := range l.Y {
			if !math.IsNaN(y) && y > ymax {
				ymax = y
			}
		}
	}
	if ymax <= 0 {
		ymax = 1 // an all-zero chart: a plain 0–1 axis
	}
	step := niceStep(ymax / chartTicks)
	top := step * math.Ceil(ymax/step)
	if top <= 0 {
		top = step
	}
	x0, x1 := c.X0, c.X1
	if x1 <= x0 {
		x1 = x0 + 1
	}
	px := func(x float64) float64 { return padL + (x-x0)/(x1-x0)*plotW }
	py := func(y float64) float64 { return padT + plotH - y/top*plotH }
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" preserveAspectRatio="none" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		c.ID, svgW, svgH, template.HTMLEscapeString(c.Title))
	fmt.Fprintf(&b, `<g font-size="%d" fill="%s">`, chartFont, text)
	for k := 0.0; k*step <= top*1.0001; k++ {
		v := k * step
		y := py(v)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s" stroke="%s"/>`, padL, svgW-padR, f1(y), f1(y), gridColor)
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end">%s</text>`, padL-6, f1(y+4), tickLabel(v, step))
	}
	xstep, xlabel := niceTime((x1-x0)/8), clockLabel
	if c.XLabel != nil {
		xstep, xlabel = niceStep((x1-x0)/8), c.XLabel
	}
	// Ticks are whole multiples of the step, each computed afresh and
	// snapped to the step's decimals: adding steps up would label 1.2 as
	// 1.2000000000000002.
	for k := math.Ceil(x0 / xstep); k*xstep <= x1; k++ {
		v, _ := strconv.ParseFloat(tickLabel(k*xstep, xstep), 64)
		x := px(v)
		fmt.Fprintf(&b, `<line x1="%s" x2="%s" y1="%d" y2="%d" stroke="%s"/>`, f1(x), f1(x), padT+plotH, padT+plotH+4, axisColor)
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`, f1(x), svgH-8, xlabel(v))
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s"/>`, padL, svgW-padR, padT+plotH, padT+plotH, axisColor)
	fmt.Fprintf(&b, `<text x="%d" y="%d" transform="rotate(-90 %d %d)" text-anchor="middle">%s</text></g>`,
		12, padT+plotH/2, 12, padT+plotH/2, template.HTMLEscapeString(c.Unit))
	for _, l := range c.Lines {
		xs, ys := Downsample(l.X, l.Y, MaxChartPoints)
		fmt.Fprintf(&b, `<path class="line" data-name="%s" fill="none" stroke="%s" stroke-width="1.4" vector-effect="non-scaling-stroke" d="%s"><title>%s</title></path>`,
			template.HTMLEscapeString(l.Name), l.Color, pathData(xs, ys, px, py), template.HTMLEscapeString(l.Name))
	}
	row := 0 // labels of markers close together go on alternate rows
	lastX := math.Inf(-1)
	for _, m := range c.Markers {
		if m.T < x0 || m.T > x1 {
			continue
		}
		if px(m.T)-lastX < 120 {
			row = 1 - row
		} else {
			row = 0
		}
		lastX = px(m.T)
		x := f1(px(m.T))
		fmt.Fprintf(&b, `<g class="marker"><line x1="%s" x2="%s" y1="%d" y2="%d" stroke="%s" stroke-dasharray="4 3"/><text x="%s" y="%d" font-size="%d" fill="%s" dx="3">%s</text></g>`,
			x, x, padT, padT+plotH, markerColor, x, padT+10+row*(chartFont+3), chartFont, markerColor, template.HTMLEscapeString(m.Label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// pathData returns the d attribute of a polyline through the points; a NaN
// ends a run of points, so a gap stays a gap. A point alone between gaps is
// drawn as a dot (a zero-length segment with a round cap would not show
// with every renderer; a short horizontal one does).
func pathData(xs, ys []float64, px, py func(float64) float64) string {
	var b strings.Builder
	pen := false
	for i := range xs {
		if math.IsNaN(ys[i]) {
			pen = false
			continue
		}
		x, y := px(xs[i]), py(ys[i])
		alone := !pen && (i+1 >= len(xs) || math.IsNaN(ys[i+1]))
		switch {
		case alone:
			fmt.Fprintf(&b, "M%s %sh1", f1(x), f1(y))
		case pen:
			fmt.Fprintf(&b, "L%s %s", f1(x), f1(y))
		default:
			fmt.Fprintf(&b, "M%s %s", f1(x), f1(y))
		}
		pen = true
	}
	return b.String()
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// niceStep returns the smallest of 1, 2, 2.5 or 5 × a power of ten at least
// raw (at least 1e-3).
func niceStep(raw float64) float64 {
	if raw <= 1e-3 || math.IsNaN(raw) {
		return 1e-3
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// niceTime returns a tick step in seconds at least raw: 1, 2, 5, 10, 15, 30 s,
// then minutes and hours alike.
func niceTime(raw float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400} {
		if s >= raw {
			return s
		}
	}
	return 86400 * math.Ceil(raw/86400)
}

// tickLabel formats a value tick with the decimals its step needs.
func tickLabel(v, step float64) string {
	d := 0
	for s := step; s < 1 && d < 3; s *= 10 {
		d++
	}
	if step == 2.5 || step == 0.25 || step == 0.025 {
		d++
	}
	return strconv.FormatFloat(v, 'f', d, 64)
}

// clockLabel formats seconds from the start as m:ss, or h:mm:ss from an hour on;
// negative as −m:ss.
func clockLabel(s float64) string {
	sign := ""
	if s < 0 {
		sign, s = "−", -s
	}
	t := int64(math.Round(s))
	if t >= 3600 {
		return fmt.Sprintf("%s%d:%02d:%02d", sign, t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%s%d:%02d", sign, t/60, t%60)
}
