package profile

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/surge-replay/surge/report"
)

// sparkWidth is the width of Show's sparklines, in cells.
const sparkWidth = 60

// showRoutes is how many route groups Show lists.
const showRoutes = 10

// Show writes p as text: its range and totals, the arrival, request and
// concurrency curves as sparklines, the route, region, device, protocol
// and status mixes, session lengths, requests per session and think times
// as quantiles, the likeliest transitions per class, and the notable
// moments.
func Show(w io.Writer, p *Profile) error {
	bw := bufio.NewWriter(w)
	m := &p.Meta
	fmt.Fprintf(bw, "profile of %s", strings.Join(m.Capture, ", "))
	if m.Source != "" {
		fmt.Fprintf(bw, " (%s)", m.Source)
	}
	fmt.Fprintf(bw, "\n%s – %s UTC (%s), built %s\n", m.First.Format("2006-01-02 15:04:05"), m.Last.Format("15:04:05"),
		m.Last.Sub(m.First).Round(time.Second), m.Built.Format(time.RFC3339))
	fmt.Fprintf(bw, "requests %s   sessions %s   peak concurrency %s   route groups %d   classes %s\n\n",
		report.Count(m.Requests), report.Count(m.Sessions), report.Count(m.PeakConcurrency), len(m.Routes), strings.Join(m.Classes, ", "))

	arr, req := p.ArrivalCurve(), p.RequestCurve()
	conc := p.ConcurrencyCurve()
	concI := make([]int64, len(conc))
	for i, v := range conc {
		concI[i] = int64(math.Round(v))
	}
	fmt.Fprintf(bw, "per minute from %s (one cell = %s)\n", m.Start.Format("15:04"), cellWidth(len(arr)))
	width := min(sparkWidth, len(arr)) // cells a curve has
	curve := func(name string, v []int64, unit string) {
		i := slices.Index(v, slices.Max(v))
		fmt.Fprintf(bw, "  %-16s %-*s  peak %s %s at %s\n", name, width, report.Sparkline(v, sparkWidth),
			report.Count(v[i]), unit, m.Start.Add(time.Duration(i)*time.Minute).Format("15:04"))
	}
	if len(arr) > 0 {
		curve("new sessions", arr, "/min")
		curve("requests", req, "/min")
		curve("concurrency", concI, "live")
	}

	fmt.Fprintf(bw, "\nroutes (share of requests, per minute)\n")
	for i, s := range p.RouteMix() {
		if i == showRoutes {
			fmt.Fprintf(bw, "  ... and %d more\n", len(m.Routes)-showRoutes)
			break
		}
		fmt.Fprintf(bw, "  %6.2f%%  %-*s  %s\n", 100*s.Share, min(sparkWidth/2, len(arr)), report.Sparkline(p.RouteCurve(s.Value), sparkWidth/2), s.Value)
	}
	for _, d := range []string{DimRegion, DimDevice, DimProtocol} {
		fmt.Fprintf(bw, "%-9s %s\n", d, shareList(p.MixOf(d), 8))
	}
	fmt.Fprintf(bw, "%-9s %s\n", "status", shareList(p.StatusMix(""), 8))

	fmt.Fprintf(bw, "\nsessions by class: length p50 / p90 / p99, requests p50 / p90\n")
	for _, c := range append([]string{""}, m.Classes...) {
		l, r := p.SessionLengths(c), p.RequestsPerSession(c)
		var n int64
		for _, b := range r {
			n += b.Count
		}
		name := c
		if c == "" {
			name = "all"
		}
		fmt.Fprintf(bw, "  %-12s %9s  %8s / %8s / %8s   %5.0f / %5.0f\n", name, report.Count(n),
			ms(Quantile(l, .5)), ms(Quantile(l, .9)), ms(Quantile(l, .99)), Quantile(r, .5), Quantile(r, .9))
	}

	fmt.Fprintf(bw, "\nthink time (most frequent transitions): p50 / p90\n")
	type tr struct {
		from, to string
		n        int64
	}
	counts := map[[2]string]int64{}
	for _, r := range p.ThinkTime {
		counts[[2]string{r.From, r.To}] += r.Count
	}
	var trs []tr
	for k, n := range counts {
		trs = append(trs, tr{k[0], k[1], n})
	}
	slices.SortFunc(trs, func(a, b tr) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.from+a.to, b.from+b.to)
	})
	for _, t := range trs[:min(len(trs), showRoutes)] {
		h := p.ThinkTimes(t.from, t.to)
		fmt.Fprintf(bw, "  %9s  %8s / %8s  %s → %s\n", report.Count(t.n), ms(Quantile(h, .5)), ms(Quantile(h, .9)), t.from, t.to)
	}

	fmt.Fprintf(bw, "\nlikeliest next route by class (from the session start)\n")
	for _, c := range m.Classes {
		var first []Transition
		for _, t := range p.Transitions {
			if t.Class == c && t.From == StartRoute {
				first = append(first, t)
			}
		}
		slices.SortFunc(first, func(a, b Transition) int { return cmp.Compare(b.Count, a.Count) })
		var parts []string
		for _, t := range first[:min(len(first), 3)] {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", t.To, 100*t.Probability))
		}
		fmt.Fprintf(bw, "  %-12s %s\n", c, strings.Join(parts, ", "))
	}

	fmt.Fprintf(bw, "\nnotable moments (change ≥ %.0f%% within %d min, beyond %.0fσ of noise; %d min at each end not searched)\n",
		100*m.Parameters.MomentChange, m.Parameters.MomentWindow, m.Parameters.MomentZ, m.Parameters.MomentEdge)
	if len(p.Moments) == 0 {
		fmt.Fprintf(bw, "  none\n")
	}
	for _, mo := range p.Moments {
		fmt.Fprintf(bw, "  %s\n", mo.Description)
	}
	return bw.Flush()
}

func cellWidth(minutes int) string {
	step := (minutes + sparkWidth - 1) / sparkWidth
	return (time.Duration(max(step, 1)) * time.Minute).String()
}

func shareList(s []Share, n int) string {
	var parts []string
	for i, x := range s {
		if i == n {
			parts = append(parts, fmt.Sprintf("… %d more", len(s)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.1f%%", x.Value, 100*x.Share))
	}
	return strings.Join(parts, "  ")
}

// ms writes milliseconds as a short duration: 850ms, 6.0s, 12m30s.
func ms(v float64) string {
	d := time.Duration(v * float64(time.Millisecond))
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}
