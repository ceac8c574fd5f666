package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Tools of the replay group, in table order. surge2 is surge with
// GOMAXPROCS=2 on the same single core: a diagnostic, not the headline.
// peruser is surge with its default connection model (each virtual user its
// own connections) at 10k req/s; the others use a shared pool of 64.
var tools = []string{"surge", "vegeta", "surge2", "peruser"}

var toolNames = map[string]string{
	"surge":   "surge",
	"vegeta":  "vegeta",
	"surge2":  "surge, GOMAXPROCS=2 (diagnostic)",
	"peruser": "surge, per-user connections",
}

// report prints every table of a bench run.
func report(dir string, w io.Writer) error {
	p := &printer{w: w}
	if err := p.meta(dir); err != nil {
		return err
	}
	imp, err := importNumbers(dir)
	if err != nil {
		return err
	}
	scan, err := scanNumbers(dir)
	if err != nil {
		return err
	}
	wrk := wrkNumbers(dir)
	steps := map[string]map[int]medians{}
	for _, tool := range tools {
		steps[tool] = map[int]medians{}
		for _, rate := range ratesOf(dir, tool) {
			m, ok, err := stepMedians(dir, tool, rate)
			if err != nil {
				return err
			}
			if ok {
				steps[tool][rate] = m
			}
		}
	}
	big, bigErr := bigNumbers(dir)

	p.printf("### A. Import and scan\n\n")
	p.row("measurement", "median", "runs")
	p.row("---", "---:", "---:")
	p.row("import combined, 1M lines, 1 core: lines/s (wall)", num(imp.lps), itoa(imp.n1))
	p.row("import combined, 1M lines: CPU-s (user+sys)", f2(imp.cpu), itoa(imp.n1))
	p.row("import combined, 1M lines: peak RSS", mb(imp.rss1), itoa(imp.n1))
	p.row("import combined, 5M lines: peak RSS", mb(imp.rss5), itoa(imp.n5))
	p.row("import combined, 5M lines, 1 core: lines/s (wall)", num(imp.lps5), itoa(imp.n5))
	for _, name := range []string{"ScanRequestLine", "ScanExchange"} {
		s := scan[name]
		p.row("Parquet scan, 1M exchanges, "+name+": events/s", num(s.eps), itoa(s.n))
		p.row("Parquet scan, "+name+": allocs/event, B/event", fmt.Sprintf("%.1f, %.0f", s.allocs, s.bytes), itoa(s.n))
	}
	p.printf("\n### B. Replay: every rate step (medians)\n\n")
	p.row("tool", "intended req/s", "achieved req/s", "achieved %", "lateness p99 ms", "target req/s", "gap err p99 µs", "CPU-s/100k", "CPU use", "peak RSS", "failed+dropped", "vol. ctx sw.", "verdict")
	p.row("---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---")
	for _, tool := range tools {
		for _, rate := range sortedRates(steps[tool]) {
			m := steps[tool][rate]
			verdict := m.verdict()
			if verdict != "pass" {
				verdict = "**" + verdict + "**"
			}
			achieved := num(m.Achieved)
			if tool == "vegeta" {
				achieved += " (throughput " + num(m.Throughput) + ")"
			}
			p.row(toolNames[tool], num(float64(rate)), achieved, fmt.Sprintf("%.1f", 100*m.Fraction),
				f2(m.LatenessP99), num(m.TargetRPS), fmt.Sprintf("%.0f", m.GapErrP99), f2(m.CPU100k),
				fmt.Sprintf("%.0f%%", 100*m.Util), mb(m.RSSMB), num(m.Failed), num(m.VolCS), verdict)
		}
	}
	p.printf("\nwrk (closed loop, 64 connections, 1 thread): %s req/s, median of %d — the target's ceiling.\n", num(wrk.rps), wrk.n)

	// The final table.
	p.printf("\n### Summary\n\n")
	p.row("metric", "surge", "vegeta", "wrk", "ratio", "goal", "met?")
	p.row("---", "---:", "---:", "---:", "---:", "---", "---")
	p.row("import combined, lines/s on one core (1M lines)", num(imp.lps), "", "", "", "≥ 500,000", met(imp.lps >= goalImportLPS))
	p.row("import peak RSS, 5M lines", mb(imp.rss5), "", "", "", "≤ 200 MiB", met(imp.rss5 > 0 && imp.rss5 <= goalImportRSSMB))
	rl, ex := scan["ScanRequestLine"], scan["ScanExchange"]
	p.row("Parquet scan, RequestLine events/s", num(rl.eps), "", "", ratio(rl.eps, ex.eps)+" of Exchange scan", "≥ 2,000,000", met(rl.eps >= goalScanEPS))
	p.row("Parquet scan, full Exchange events/s", num(ex.eps), "", "", "", "(comparison)", "")

	s40, okS := steps["surge"][40000]
	v40, okV := steps["vegeta"][40000]
	cpuNote := ""
	if okS && !s40.Pass {
		cpuNote = fmt.Sprintf(" (surge achieved only %.1f%%)", 100*s40.Fraction)
	}
	p.row("(a) CPU-s per 100k requests at 40k req/s"+cpuNote, opt(okS, f2(s40.CPU100k)), opt(okV, f2(v40.CPU100k)), "",
		opt(okS && okV, ratio(s40.CPU100k, v40.CPU100k)), "surge ≤ 1.2 and ≤ 0.5× vegeta",
		met(okS && okV && s40.CPU100k <= goalCPUPer100k && s40.CPU100k <= goalCPUVsVegeta*v40.CPU100k))

	sMax, sTop := maxRate(steps["surge"])
	vMax, vTop := maxRate(steps["vegeta"])
	p.row("(b) max sustainable open-loop rate, req/s (achieved ≥ 99.5%, lateness p99 ≤ 5 ms)",
		rateText(sMax, sTop), rateText(vMax, vTop), num(wrk.rps)+" (closed loop)", ratio(sMax, vMax),
		"surge ≥ 1.8× vegeta, or the target's ceiling",
		met(sMax > 0 && (sMax >= goalMaxRateRatio*vMax || (wrk.rps > 0 && sMax >= 0.95*wrk.rps))))
	sKept, sKeptTop := maxKept(steps["surge"])
	vKept, vKeptTop := maxKept(steps["vegeta"])
	p.row("(b′) the same by achieved rate alone (≥ 99.5%), lateness aside", rateText(sKept, sKeptTop), rateText(vKept, vKeptTop), "",
		ratio(sKept, vKept), "surge ≥ 1.8× vegeta, or the target's ceiling",
		met(sKept > 0 && (sKept >= goalMaxRateRatio*vKept || (wrk.rps > 0 && sKept >= 0.95*wrk.rps))))

	s10, okS10 := steps["surge"][10000]
	v10, okV10 := steps["vegeta"][10000]
	p.row("(c) p99 \\|gap − 100 µs\\| at the target, 10k req/s (µs)", opt(okS10, fmt.Sprintf("%.0f", s10.GapErrP99)),
		opt(okV10, fmt.Sprintf("%.0f", v10.GapErrP99)), "", opt(okS10 && okV10, ratio(s10.GapErrP99, v10.GapErrP99)),
		"surge ≤ 250 µs", met(okS10 && s10.GapErrP99 <= goalGapErrUS))
	if bigErr == nil {
		p.row("(d) peak RSS replaying a 20M-event capture", mb(big.rss), "", "", "", "≤ 300 MiB", met(big.rss > 0 && big.rss <= goalBigRSSMB))
	} else {
		p.row("(d) peak RSS replaying a 20M-event capture", "not run: "+bigErr.Error(), "", "", "", "≤ 300 MiB", "")
	}

	// The diagnostic: the same measurements with GOMAXPROCS=2.
	if len(steps["surge2"]) > 0 {
		d := steps["surge2"]
		d40, ok40 := d[40000]
		d10, ok10 := d[10000]
		dMax, dTop := maxRate(d)
		p.printf("\n### Diagnostic: surge with GOMAXPROCS=2, still pinned to one core\n\n")
		p.row("metric", "surge GOMAXPROCS=2", "vegeta", "ratio", "goal", "met?")
		p.row("---", "---:", "---:", "---:", "---", "---")
		p.row("(a) CPU-s per 100k requests at 40k req/s", opt(ok40, f2(d40.CPU100k)), opt(okV, f2(v40.CPU100k)),
			opt(ok40 && okV, ratio(d40.CPU100k, v40.CPU100k)), "≤ 1.2 and ≤ 0.5× vegeta",
			met(ok40 && okV && d40.CPU100k <= goalCPUPer100k && d40.CPU100k <= goalCPUVsVegeta*v40.CPU100k))
		p.row("(b) max sustainable open-loop rate, req/s", rateText(dMax, dTop), rateText(vMax, vTop), ratio(dMax, vMax),
			"≥ 1.8× vegeta, or the target's ceiling", met(dMax > 0 && (dMax >= goalMaxRateRatio*vMax || (wrk.rps > 0 && dMax >= 0.95*wrk.rps))))
		dKept, dKeptTop := maxKept(d)
		vKept, vKeptTop := maxKept(steps["vegeta"])
		p.row("(b′) the same by achieved rate alone", rateText(dKept, dKeptTop), rateText(vKept, vKeptTop), ratio(dKept, vKept),
			"≥ 1.8× vegeta, or the target's ceiling", met(dKept > 0 && (dKept >= goalMaxRateRatio*vKept || (wrk.rps > 0 && dKept >= 0.95*wrk.rps))))
		p.row("(c) p99 \\|gap − 100 µs\\| at 10k req/s (µs)", opt(ok10, fmt.Sprintf("%.0f", d10.GapErrP99)), opt(okV10, fmt.Sprintf("%.0f", v10.GapErrP99)),
			opt(ok10 && okV10, ratio(d10.GapErrP99, v10.GapErrP99)), "≤ 250 µs", met(ok10 && d10.GapErrP99 <= goalGapErrUS))
	}
	if bigErr == nil {
		p.printf("\n(d) in detail: %s\n", big.text)
	}
	return p.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) row(cells ...string) { p.printf("| %s |\n", strings.Join(cells, " | ")) }

func (p *printer) meta(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "meta.txt"))
	if err != nil {
		return err
	}
	p.printf("### Machine and run\n\n")
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		p.printf("- %s\n", line)
	}
	p.printf("\n")
	return nil
}

type importNums struct {
	lps, cpu, rss1, rss5, lps5 float64
	n1, n5                     int
}

func importNumbers(dir string) (importNums, error) {
	var r importNums
	var lps, cpu, rss1, rss5, lps5 []float64
	for i := 1; ; i++ {
		t, err := readTime(filepath.Join(dir, fmt.Sprintf("import-1m-%d.time", i)))
		if err != nil {
			break
		}
		lps = append(lps, 1e6/t.Wall)
		cpu = append(cpu, t.User+t.Sys)
		rss1 = append(rss1, t.RSSKB/1024)
	}
	for i := 1; ; i++ {
		t, err := readTime(filepath.Join(dir, fmt.Sprintf("import-5m-%d.time", i)))
		if err != nil {
			break
		}
		rss5 = append(rss5, t.RSSKB/1024)
		lps5 = append(lps5, 5e6/t.Wall)
	}
	r.n1, r.n5 = len(lps), len(rss5)
	r.lps, r.cpu, r.rss1, r.rss5, r.lps5 = median(lps), median(cpu), median(rss1), median(rss5), median(lps5)
	return r, nil
}

type scanNums struct {
	eps, allocs, bytes float64
	n                  int
}

var benchLine = regexp.MustCompile(`^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// scanNumbers reads go test -bench output: events/s and the allocations
// per op divided by the events per op.
func scanNumbers(dir string) (map[string]scanNums, error) {
	f, err := os.Open(filepath.Join(dir, "scan.txt"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vals := map[string]map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if vals[m[1]] == nil {
			vals[m[1]] = map[string][]float64{}
		}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err == nil {
				vals[m[1]][fields[i+1]] = append(vals[m[1]][fields[i+1]], v)
			}
		}
	}
	out := map[string]scanNums{}
	for name, v := range vals {
		eps := median(v["events/s"])
		perOp := median(v["ns/op"]) / math.Max(median(v["ns/event"]), 1e-9) // events per op
		out[name] = scanNums{eps: eps, allocs: median(v["allocs/op"]) / perOp, bytes: median(v["B/op"]) / perOp, n: len(v["events/s"])}
	}
	return out, sc.Err()
}

type wrkNums struct {
	rps float64
	n   int
}

var wrkRPS = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

func wrkNumbers(dir string) wrkNums {
	var xs []float64
	for i := 1; ; i++ {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("wrk-%d.txt", i)))
		if err != nil {
			break
		}
		if m := wrkRPS.FindSubmatch(b); m != nil {
			v, _ := strconv.ParseFloat(string(m[1]), 64)
			xs = append(xs, v)
		}
	}
	return wrkNums{rps: median(xs), n: len(xs)}
}

type bigNums struct {
	rss  float64
	text string
}

func bigNumbers(dir string) (bigNums, error) {
	t, err := readTime(filepath.Join(dir, "big.time"))
	if err != nil {
		return bigNums{}, err
	}
	var s surgeSummary
	if err := readJSON(filepath.Join(dir, "big.summary.json"), &s); err != nil {
		return bigNums{}, err
	}
	args, _ := os.ReadFile(filepath.Join(dir, "big.txt"))
	text := fmt.Sprintf("%s. All %s scheduled requests went through the reader, shaper, preparer, pacer and report: %s sent, %s dropped (%s); %.0f s of schedule, %.0f s wall, %.0f CPU-s, peak RSS %s.",
		strings.TrimSpace(string(args)), num(s.Scheduled), num(s.Sent), num(s.Dropped), droppedText(s.DroppedBy),
		s.DurationS, t.Wall, t.User+t.Sys, mb(t.RSSKB/1024))
	return bigNums{rss: t.RSSKB / 1024, text: text}, nil
}

func droppedText(by map[string]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(by)) {
		parts = append(parts, fmt.Sprintf("%s %s", k, num(by[k])))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

var runFile = regexp.MustCompile(`^([a-z0-9]+)-(\d+)-\d+\.time$`)

// ratesOf lists the rates tool was run at.
func ratesOf(dir, tool string) []int {
	entries, _ := os.ReadDir(dir)
	seen := map[int]bool{}
	for _, e := range entries {
		m := runFile.FindStringSubmatch(e.Name())
		if m == nil || m[1] != tool {
			continue
		}
		r, _ := strconv.Atoi(m[2])
		seen[r] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

func sortedRates(m map[int]medians) []int { return slices.Sorted(maps.Keys(m)) }

// maxRate returns the highest rate of the ladder that passed with every
// lower step passing too; top is true when no step failed (the true maximum
// is higher than the ladder went).
func maxRate(m map[int]medians) (rate float64, top bool) {
	return maxBy(m, func(m medians) bool { return m.Pass })
}

// maxKept is maxRate by the achieved rate alone, lateness aside.
func maxKept(m map[int]medians) (rate float64, top bool) {
	return maxBy(m, func(m medians) bool { return m.KeptRate })
}

func maxBy(m map[int]medians, ok func(medians) bool) (rate float64, top bool) {
	for _, r := range sortedRates(m) {
		if !ok(m[r]) {
			return rate, false
		}
		rate = float64(r)
	}
	return rate, true
}

func rateText(r float64, top bool) string {
	if r == 0 {
		return "none passed"
	}
	if top {
		return "≥ " + num(r) + " (ladder top)"
	}
	return num(r)
}

func opt(ok bool, s string) string {
	if !ok {
		return "n/a"
	}
	return s
}

func met(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func itoa(n int) string { return strconv.Itoa(n) }

func f2(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v)
}

func mb(v float64) string {
	if math.IsNaN(v) || v == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MiB", v)
}

// num formats v with thousands separators.
func num(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
