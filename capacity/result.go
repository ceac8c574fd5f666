package capacity

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/surge-replay/surge/report"
)

// x formats a ratio (report.Ratio: no float noise such as
// 1.2000000000000002).
func x(r float64) string { return report.Ratio(r) + "x" }

// Sentence is the search's answer in one sentence: "holds 2.6x of the
// recorded traffic (52% of projected 5x); first breach at 3.1x: /api/search
// p99 1.2 s", or why there is none.
func (r *Result) Sentence() string {
	var b strings.Builder
	switch {
	case r.Knee == 0 && r.GeneratorBound:
		fmt.Fprintf(&b, "no answer: the generator fell behind at %s before any ratio held", x(r.GeneratorAt))
		return b.String()
	case r.Knee == 0:
		b.WriteString("holds no ratio tried")
	default:
		fmt.Fprintf(&b, "holds %s of the recorded traffic", x(r.Knee))
		if r.Projected > 0 {
			fmt.Fprintf(&b, " (%.0f%% of projected %s)", 100*r.Knee/r.Projected, x(r.Projected))
		}
	}
	switch {
	case r.GeneratorBound:
		fmt.Fprintf(&b, "; search stopped at %s: the generator fell behind (surge's limit on this machine, not the target's knee, which is higher)", x(r.GeneratorAt))
	case r.Breach > 0:
		fmt.Fprintf(&b, "; first breach at %s: %s", x(r.Breach), strings.Join(r.BreachWhat, ", "))
	default:
		b.WriteString("; no breach up to the highest ratio tried")
	}
	return b.String()
}

// WriteText writes every step and the answer.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "capacity search: %s\n", strings.Join(r.SLOs, ", "))
	fmt.Fprintf(&b, "  %-8s %-7s %6s %8s %8s %10s %9s  %s\n", "ratio", "phase", "passes", "p99 ms", "errors", "sent/s", "late p99", "result")
	for _, s := range r.Steps {
		verdict := "holds"
		switch {
		case s.GeneratorBad:
			verdict = "GENERATOR BEHIND"
		case !s.Holds:
			verdict = "breach: " + strings.Join(s.Breaches, ", ")
		}
		if !s.Settled && !s.GeneratorBad {
			verdict += " (p99 not settled)"
		}
		fmt.Fprintf(&b, "  %-8s %-7s %6d %8s %8s %10s %9s  %s\n", x(s.Ratio), s.Phase, s.Passes, report.Fig(s.P99MS), report.Fig(100*s.ErrorRate)+"%", report.Fig(s.AchievedRPS), report.Fig(s.LatenessP99), verdict)
	}
	fmt.Fprintf(&b, "rule: %s\n%s\n", r.Rule, r.Sentence())
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the result as indented JSON, with the sentence as
// "answer".
func (r *Result) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(struct {
		Answer string `json:"answer"`
		*Result
	}{r.Sentence(), r})
}

var page = template.Must(template.New("capacity").Funcs(template.FuncMap{"pct100": func(v float64) float64 { return 100 * v }, "x": x, "fig": report.Fig}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>surge capacity search</title>
<style>body{font:14px/1.4 system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:12px 20px;color:#222}
h1{font-size:20px}.answer{font-size:17px;font-weight:600;margin:10px 0}svg.chart{width:100%;height:230px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #eee;padding:3px 8px;text-align:right}
th:first-child,td:first-child,th:last-child,td:last-child{text-align:left}.note{color:#666;font-size:12px}</style></head>
<body><h1>surge capacity search</h1><div>SLOs: {{range $i, $s := .R.SLOs}}{{if $i}}, {{end}}<b>{{$s}}</b>{{end}}</div>
<p class="answer" id="answer">{{.R.Sentence}}</p>
<h3>p99 from the intended time by ratio</h3>{{.P99}}
<h3>error rate by ratio</h3>{{.Errors}}
<table><thead><tr><th>ratio</th><th>phase</th><th>passes</th><th>p99 ms</th><th>errors</th><th>sent/s</th><th>lateness p99 ms</th><th>result</th></tr></thead><tbody>
{{range .R.Steps}}<tr><td>{{x .Ratio}}</td><td>{{.Phase}}</td><td>{{.Passes}}</td><td>{{fig .P99MS}}</td><td>{{fig (pct100 .ErrorRate)}}%</td><td>{{fig .AchievedRPS}}</td><td>{{fig .LatenessP99}}</td><td>{{if .GeneratorBad}}generator behind{{else if .Holds}}holds{{else}}breach: {{range $i, $b := .Breaches}}{{if $i}}, {{end}}{{$b}}{{end}}{{end}}</td></tr>
{{end}}</tbody></table><p class="note">rule: {{.R.Rule}}</p></body></html>
`))

// WriteHTML writes the search as one self-contained page: the answer, two
// charts (p99 and error rate against the ratio, the knee and first breach
// marked) and every step.
func (r *Result) WriteHTML(w io.Writer) error {
	steps := slices.Clone(r.Steps)
	slices.SortStableFunc(steps, func(a, b Step) int { return cmp.Compare(a.Ratio, b.Ratio) })
	var xs, p99, errs []float64
	for _, s := range steps {
		xs, p99, errs = append(xs, s.Ratio), append(p99, s.P99MS), append(errs, 100*s.ErrorRate)
	}
	var marks []report.Marker
	if r.Knee > 0 {
		marks = append(marks, report.Marker{T: r.Knee, Label: "holds " + x(r.Knee)})
	}
	if r.Breach > 0 {
		marks = append(marks, report.Marker{T: r.Breach, Label: "breach " + x(r.Breach)})
	}
	if r.GeneratorBound {
		marks = append(marks, report.Marker{T: r.GeneratorAt, Label: "generator behind"})
	}
	lbl := func(v float64) string { return x(v) }
	return page.Execute(w, map[string]any{
		"R":      r,
		"P99":    report.LineChart("p99", "p99 by ratio", "ms", []report.Line{{Name: "p99", X: xs, Y: p99}}, marks, lbl),
		"Errors": report.LineChart("errors", "error rate by ratio", "%", []report.Line{{Name: "errors", X: xs, Y: errs}}, marks, lbl),
	})
}
