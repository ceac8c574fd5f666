// Command tally turns the raw files of a scripts/bench.sh run into numbers:
// medians of the repeated runs, pass/fail of a rate step, and the tables of
// docs/BENCHMARKS.md.
//
//	tally vlate RATE < results.csv > late.json   lateness of a vegeta attack
//	tally step DIR TOOL RATE                      print a step's medians; exit 1 if the rate was not kept
//	tally report DIR                              the tables, in Markdown
//
// DIR holds, per run i (1, 2, 3):
//
//	import-1m-i.time, import-5m-i.time       /usr/bin/time -v of surge import
//	scan.txt                                 go test -bench output
//	wrk-i.txt                                wrk output
//	TOOL-RATE-i.time, TOOL-RATE-i.target.json   per replay run, TOOL surge,
//	                                         surge2 (GOMAXPROCS=2) or vegeta
//	surge*-RATE-i.summary.json               surge --summary-json
//	vegeta-RATE-i.report.json, .late.json    vegeta report -type=json, tally vlate
//	big.time, big.summary.json, big.txt      the 20M-event replay
//	meta.txt                                 key: value lines about the machine
package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Goals of the foundation and replay issues.
const (
	goalImportLPS    = 500_000 // lines/s, one core
	goalImportRSSMB  = 200     // MiB, 5M lines
	goalScanEPS      = 2_000_000
	goalCPUPer100k   = 1.2 // CPU-s at 40k req/s
	goalCPUVsVegeta  = 0.5 // surge CPU / vegeta CPU
	goalMaxRateRatio = 1.8 // surge max rate / vegeta max rate
	goalGapErrUS     = 250 // p99 |gap − ideal| at 10k req/s
	goalBigRSSMB     = 300 // MiB, replaying 20M events

	// A step passes when the achieved rate is at least this fraction of the
	// intended one and the generator's p99 lateness at most maxLatenessMS.
	minAchieved   = 0.995
	maxLatenessMS = 5.0
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "vlate":
		if len(os.Args) != 3 {
			usage()
		}
		err = vlate(os.Args[2], os.Stdin, os.Stdout)
	case "step":
		if len(os.Args) != 5 {
			usage()
		}
		var ok bool
		ok, err = step(os.Args[2], os.Args[3], os.Args[4], os.Stdout)
		if err == nil && !ok {
			os.Exit(1)
		}
	case "report":
		if len(os.Args) != 3 {
			usage()
		}
		err = report(os.Args[2], os.Stdout)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tally:", err)
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: tally vlate RATE < results.csv | tally step DIR TOOL RATE | tally report DIR")
	os.Exit(2)
}

// Lateness is the generator's lateness, in the shape of surge's summary.
type Lateness struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// vlate computes a vegeta attack's lateness from its results (vegeta encode
// -to csv): hit seq was due at t0 + seq/rate; vegeta records when the hit
// began. t0 is not recorded, so it is taken as the earliest begin − seq/rate:
// lateness is measured from the most punctual hit (≥ 0).
func vlate(rateArg string, in io.Reader, out io.Writer) error {
	rate, err := strconv.ParseFloat(rateArg, 64)
	if err != nil || rate <= 0 {
		return fmt.Errorf("bad rate %q", rateArg)
	}
	r := csv.NewReader(bufio.NewReaderSize(in, 1<<20))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	var rel []float64 // begin − due offset, ns
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(rec) < 9 {
			return fmt.Errorf("vegeta csv: %d fields", len(rec))
		}
		ts, err1 := strconv.ParseInt(rec[0], 10, 64)
		seq, err2 := strconv.ParseInt(rec[8], 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("vegeta csv: bad timestamp or seq in %q", strings.Join(rec, ","))
		}
		rel = append(rel, float64(ts)-float64(seq)*1e9/rate)
	}
	l := Lateness{N: len(rel)}
	if len(rel) > 0 {
		slices.Sort(rel)
		t0 := rel[0]
		q := func(p float64) float64 { return (rel[int(p*float64(len(rel)-1))] - t0) / 1e6 }
		l.P50, l.P99, l.Max = q(0.5), q(0.99), q(1)
	}
	return json.NewEncoder(out).Encode(l)
}

// run is one replay run's numbers.
type run struct {
	Sent        float64 // requests sent
	Achieved    float64 // the tool's achieved rate, req/s
	LatenessP99 float64 // ms
	CPU         float64 // user + sys, s
	RSSMB       float64
	TargetRPS   float64 // arrival rate at the target
	GapErrP99   float64 // µs, at the target
	Failed      float64 // requests failed or dropped
	VolCS       float64 // voluntary context switches
	Util        float64 // CPU-s / wall s: the share of its core the tool used
	Throughput  float64 // vegeta: successes / (sending time + wait for the last response)
}

// medians holds the per-metric medians of a step's runs.
type medians struct {
	run
	Runs     int
	CPU100k  float64 // CPU-s per 100k requests
	Fraction float64 // achieved / intended
	KeptRate bool    // achieved ≥ 99.5% of intended
	Pass     bool    // KeptRate, and lateness p99 ≤ 5 ms
}

func (m *medians) verdict() string {
	switch {
	case m.Pass:
		return "pass"
	case m.KeptRate:
		return "late"
	}
	return "FAIL"
}

// timeV is what /usr/bin/time -v reports.
type timeV struct {
	User, Sys, Wall, RSSKB, VolCS float64
}

func readTime(path string) (timeV, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return timeV{}, err
	}
	var t timeV
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		switch k {
		case "User time (seconds)":
			t.User, _ = strconv.ParseFloat(v, 64)
		case "System time (seconds)":
			t.Sys, _ = strconv.ParseFloat(v, 64)
		case "Maximum resident set size (kbytes)":
			t.RSSKB, _ = strconv.ParseFloat(v, 64)
		case "Voluntary context switches":
			t.VolCS, _ = strconv.ParseFloat(v, 64)
		case "Elapsed (wall clock) time (h:mm:ss or m:ss)":
			t.Wall = clock(v)
		}
	}
	if t.Wall == 0 && t.User == 0 {
		return t, fmt.Errorf("%s: not /usr/bin/time -v output", path)
	}
	return t, nil
}

// clock parses h:mm:ss or m:ss.ss into seconds.
func clock(s string) float64 {
	var sec float64
	for _, part := range strings.Split(s, ":") {
		v, _ := strconv.ParseFloat(part, 64)
		sec = sec*60 + v
	}
	return sec
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// surgeSummary is the part of surge's --summary-json read here.
type surgeSummary struct {
	Scheduled   float64            `json:"scheduled"`
	Sent        float64            `json:"sent"`
	Dropped     float64            `json:"dropped"`
	DroppedBy   map[string]float64 `json:"dropped_by"`
	Errors      float64            `json:"errors"` // every class (errors_by splits it)
	AchievedRPS float64            `json:"achieved_rps"`
	IntendedRPS float64            `json:"intended_rps"`
	DurationS   float64            `json:"duration_s"`
	Lateness    struct {
		P50, P99, Max float64
	} `json:"lateness_ms"`
}

// vegetaReport is the part of vegeta report -type=json read here.
type vegetaReport struct {
	Requests   float64 `json:"requests"`
	Rate       float64 `json:"rate"`
	Throughput float64 `json:"throughput"`
	Success    float64 `json:"success"`
}

type targetStats struct {
	Arrivals    float64 `json:"arrivals"`
	AchievedRPS float64 `json:"achieved_rps"`
	GapErrP99US float64 `json:"gap_err_p99_us"`
}

// readRun reads run i of tool at rate from dir.
func readRun(dir, tool string, rate, i int) (run, error) {
	base := filepath.Join(dir, fmt.Sprintf("%s-%d-%d", tool, rate, i))
	var r run
	t, err := readTime(base + ".time")
	if err != nil {
		return r, err
	}
	r.CPU, r.RSSMB, r.VolCS = t.User+t.Sys, t.RSSKB/1024, t.VolCS
	r.Util = r.CPU / math.Max(t.Wall, 1e-3)
	var ts targetStats
	if err := readJSON(base+".target.json", &ts); err != nil {
		return r, err
	}
	r.TargetRPS, r.GapErrP99 = ts.AchievedRPS, ts.GapErrP99US
	if tool == "vegeta" {
		var v vegetaReport
		if err := readJSON(base+".report.json", &v); err != nil {
			return r, err
		}
		var l Lateness
		if err := readJSON(base+".late.json", &l); err != nil {
			return r, err
		}
		// vegeta's rate is requests / sending time: the definition of
		// surge's achieved_rps.
		r.Sent, r.Achieved, r.Throughput, r.LatenessP99 = v.Requests, v.Rate, v.Throughput, l.P99
		r.Failed = math.Round(v.Requests * (1 - v.Success))
		return r, nil
	}
	var s surgeSummary
	if err := readJSON(base+".summary.json", &s); err != nil {
		return r, err
	}
	r.Sent, r.Achieved, r.LatenessP99 = s.Sent, s.AchievedRPS, s.Lateness.P99
	r.Failed = s.Dropped
	r.Failed += s.Errors
	return r, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// stepMedians reads every run of tool at rate and takes the medians; ok is
// false when there is none.
func stepMedians(dir, tool string, rate int) (m medians, ok bool, err error) {
	var runs []run
	for i := 1; ; i++ {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%s-%d-%d.time", tool, rate, i))); err != nil {
			break
		}
		r, err := readRun(dir, tool, rate, i)
		if err != nil {
			return m, false, err
		}
		runs = append(runs, r)
	}
	if len(runs) == 0 {
		return m, false, nil
	}
	med := func(f func(r run) float64) float64 {
		xs := make([]float64, len(runs))
		for i, r := range runs {
			xs[i] = f(r)
		}
		return median(xs)
	}
	m.Runs = len(runs)
	m.Sent = med(func(r run) float64 { return r.Sent })
	m.Achieved = med(func(r run) float64 { return r.Achieved })
	m.LatenessP99 = med(func(r run) float64 { return r.LatenessP99 })
	m.CPU = med(func(r run) float64 { return r.CPU })
	m.RSSMB = med(func(r run) float64 { return r.RSSMB })
	m.TargetRPS = med(func(r run) float64 { return r.TargetRPS })
	m.GapErrP99 = med(func(r run) float64 { return r.GapErrP99 })
	m.Failed = med(func(r run) float64 { return r.Failed })
	m.VolCS = med(func(r run) float64 { return r.VolCS })
	m.Util = med(func(r run) float64 { return r.Util })
	m.Throughput = med(func(r run) float64 { return r.Throughput })
	m.CPU100k = med(func(r run) float64 { return r.CPU / math.Max(r.Sent, 1) * 1e5 })
	m.Fraction = m.Achieved / float64(rate)
	m.KeptRate = m.Fraction >= minAchieved
	m.Pass = m.KeptRate && m.LatenessP99 <= maxLatenessMS
	return m, true, nil
}

// step prints the medians of a rate step and reports whether the tool kept
// up with the rate (achieved ≥ 99.5%): a ladder goes on while it does, so
// both maxima (with and without the lateness bound) are known.
func step(dir, tool, rateArg string, out io.Writer) (bool, error) {
	rate, err := strconv.Atoi(rateArg)
	if err != nil {
		return false, err
	}
	m, ok, err := stepMedians(dir, tool, rate)
	if err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("no runs of %s at %d", tool, rate)
		}
		return false, err
	}
	fmt.Fprintf(out, "%-7s %6d/s: achieved %8.0f/s (%5.1f%%), lateness p99 %8.2f ms, gap err p99 %7.1f µs, %5.2f CPU-s/100k, RSS %4.0f MiB  [%s, median of %d]\n",
		tool, rate, m.Achieved, 100*m.Fraction, m.LatenessP99, m.GapErrP99, m.CPU100k, m.RSSMB, m.verdict(), m.Runs)
	return m.KeptRate, nil
}
