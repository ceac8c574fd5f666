// Package capacity answers "how far can we go?": it replays a capture at
// rising ratios until a service-level objective breaks, bisects between the
// last ratio that held and the first that broke, and names the knee, with
// every step's result (Search, Result). A run that the generator could not
// keep up with stops the search at once: that is the generator's limit, not
// the target's.
package capacity

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/surge-replay/surge/report"
)

// SLO is one objective a step must meet.
//
//	p(99)<500ms   every route group's latency percentile (from the intended
//	              time) is below the bound; percentiles 50, 90, 99, 99.9
//	errors<1%     errors of sent requests (any class, 4xx and 5xx
//	              included) over sent requests, run-wide; also 0.01
type SLO struct {
	// Text is the SLO as given.
	Text string
	// Percentile is 50, 90, 99 or 99.9 for a latency SLO; 0 for errors.
	Percentile float64
	// Bound is the latency bound in ms, or the error rate as a fraction.
	Bound float64
}

// MinRouteSent is how many requests a route group must have sent in a step
// for its percentiles to count against a latency SLO: fewer say little
// about a p99.
const MinRouteSent = 50

// ParseSLO parses an SLO (see SLO). The error names the text and what is
// wrong with it.
func ParseSLO(s string) (SLO, error) {
	t := strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	name, bound, ok := strings.Cut(t, "<")
	if !ok || bound == "" {
		return SLO{}, fmt.Errorf("slo %q: want p(99)<500ms or errors<1%%", s)
	}
	switch {
	case name == "errors":
		v, err := parseRate(bound)
		if err != nil {
			return SLO{}, fmt.Errorf("slo %q: %w", s, err)
		}
		return SLO{Text: s, Bound: v}, nil
	case strings.HasPrefix(name, "p(") && strings.HasSuffix(name, ")"):
		p, err := strconv.ParseFloat(name[2:len(name)-1], 64)
		if err != nil || (p != 50 && p != 90 && p != 99 && p != 99.9) {
			return SLO{}, fmt.Errorf("slo %q: percentile %s: want 50, 90, 99 or 99.9", s, name[2:len(name)-1])
		}
		d, err := time.ParseDuration(bound)
		if err != nil || d <= 0 {
			return SLO{}, fmt.Errorf("slo %q: bound %q: want a positive duration (500ms, 1.2s)", s, bound)
		}
		return SLO{Text: s, Percentile: p, Bound: float64(d) / float64(time.Millisecond)}, nil
	}
	return SLO{}, fmt.Errorf("slo %q: %q is neither p(N) nor errors", s, name)
}

func parseRate(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || math.IsNaN(v) || v <= 0 {
		return 0, fmt.Errorf("bound %q: want a positive rate (1%% or 0.01)", s)
	}
	if pct {
		v /= 100
	}
	if v > 1 {
		return 0, fmt.Errorf("bound %q: a rate above 100%%", s)
	}
	return v, nil
}

// Check returns whether s meets the SLO and, when it does not, the breach in
// words: "/api/search p99 1.2 s" or "errors 3.2% (GET /api/search 12%)".
func (o SLO) Check(s *report.RunSummary) (ok bool, breach string) {
	if o.Percentile == 0 {
		rate := errorRate(s.Sent, s.Sent-s.OK)
		if rate < o.Bound {
			return true, ""
		}
		worst, wrate := "", -1.0
		for _, r := range s.Routes {
			if x := errorRate(r.Sent, r.Errors); r.Sent >= MinRouteSent && x > wrate {
				worst, wrate = r.Route, x
			}
		}
		breach = fmt.Sprintf("errors %s", pct(rate))
		if worst != "" {
			breach += fmt.Sprintf(" (%s %s)", worst, pct(wrate))
		}
		return false, breach
	}
	worst, wv := "", -1.0
	for _, r := range s.Routes {
		if r.Sent < MinRouteSent {
			continue
		}
		if v := pick(r.Latency, o.Percentile); v > wv {
			worst, wv = r.Route, v
		}
	}
	if worst == "" { // no route with enough requests: the run-wide figure
		worst, wv = "all routes", pick(s.Latency, o.Percentile)
	}
	if wv < o.Bound {
		return true, ""
	}
	return false, fmt.Sprintf("%s p%s %s", worst, strconv.FormatFloat(o.Percentile, 'g', -1, 64), human(wv))
}

func errorRate(sent, errs int64) float64 {
	if sent == 0 {
		return 0
	}
	return float64(errs) / float64(sent)
}

func pct(v float64) string { return strconv.FormatFloat(math.Round(v*1000)/10, 'f', -1, 64) + "%" }

func pick(p report.Percentiles, q float64) float64 {
	switch q {
	case 50:
		return p.P50
	case 90:
		return p.P90
	case 99:
		return p.P99
	}
	return p.P999
}

// human formats ms as "420 ms" or "1.2 s".
func human(ms float64) string {
	if ms >= 1000 {
		return strconv.FormatFloat(math.Round(ms/100)/10, 'f', -1, 64) + " s"
	}
	return strconv.FormatFloat(math.Round(ms), 'f', -1, 64) + " ms"
}
