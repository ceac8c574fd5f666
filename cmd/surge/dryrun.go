package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/shaper"
)

// connWindow is the span over which dry run counts the virtual users that
// would hold a connection at once: about a keep-alive idle timeout.
const connWindow = 10 * time.Second

// schedulePlan is what a dry run computes by running the shaper over the
// whole window without sending: the schedule's size, its intended rate and
// an estimate of the connections it needs.
type schedulePlan struct {
	Requests        int64
	VirtualSessions int64
	Duration        time.Duration // offset of the last request (clone spread included)
	PeakRPS         int64         // most requests intended in one second
	PeakSecond      time.Duration // offset of that second
	PerSecond       []int64       // requests intended per second of the run
	PeakUsers       int64         // most distinct virtual users in any connWindow
	// Classes are the per-class request counts per second (per-class
	// ratios: shaper.Classes), in the order the classes first appear.
	Classes []classSeries
	// Unmatched are the classes no recorded session of the window starts
	// in (shaper.Shaper.Unmatched): rules that match nothing.
	Unmatched []string
}

// classSeries is one class's requests per second of the run.
type classSeries struct {
	Name      string
	PerSecond []int64
}

// planSchedule drains sh. Memory is bounded by the virtual users of one
// connWindow, not by the capture.
func planSchedule(sh *shaper.Shaper) (schedulePlan, error) {
	var p schedulePlan
	var sec, win int64 = -1, -1
	var inSec int64
	users := map[string]struct{}{}
	classes := map[string]int{} // name → index in p.Classes
	for {
		r, err := sh.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return p, err
		}
		p.Requests++
		if r.First {
			p.VirtualSessions++
		}
		p.Duration = max(p.Duration, r.At)
		if s := int64(r.At / time.Second); s != sec {
			sec, inSec = s, 0
		}
		if inSec++; inSec > p.PeakRPS {
			p.PeakRPS, p.PeakSecond = inSec, time.Duration(sec)*time.Second
		}
		for int64(len(p.PerSecond)) <= sec {
			p.PerSecond = append(p.PerSecond, 0)
		}
		p.PerSecond[sec]++
		if r.Class != "" {
			i, ok := classes[r.Class]
			if !ok {
				i = len(p.Classes)
				classes[r.Class] = i
				p.Classes = append(p.Classes, classSeries{Name: r.Class})
			}
			c := &p.Classes[i]
			for int64(len(c.PerSecond)) <= sec {
				c.PerSecond = append(c.PerSecond, 0)
			}
			c.PerSecond[sec]++
		}
		if w := int64(r.At / connWindow); w != win {
			win = w
			clear(users)
		}
		u := r.User
		if u == "" {
			u = r.VirtualSession // an anonymous user is its session
		}
		users[u] = struct{}{}
		p.PeakUsers = max(p.PeakUsers, int64(len(users)))
	}
	p.Unmatched = sh.Unmatched()
	return p, nil
}

// write prints the plan under the shaper's own lines; conns is the engine's
// connection model and bound.
func (p schedulePlan) write(w io.Writer, c *replay.Config) {
	line := func(name, format string, args ...any) {
		fmt.Fprintf(w, "%-9s %s\n", name, fmt.Sprintf(format, args...))
	}
	line("requests", "%s scheduled, %s", report.Count(p.Requests), plural(p.VirtualSessions, "virtual session", "virtual sessions"))
	secs := p.Duration.Seconds()
	mean := 0.0
	if secs > 0 {
		mean = float64(p.Requests) / secs
	}
	meanS := strconv.FormatFloat(mean, 'f', 1, 64)
	if mean >= 1000 {
		meanS = report.Count(int64(mean + 0.5))
	}
	line("rate", "peak %s req/s (at +%v), mean %s req/s", report.Count(p.PeakRPS), p.PeakSecond, meanS)
	if len(p.PerSecond) > 1 {
		// Per second for a short run, per minute for a long one.
		counts, unit := perUnit(p.PerSecond, len(p.PerSecond))
		line("shape", "%s (requests per %s, %d %ss)", report.Sparkline(counts, 60), unit, len(counts), unit)
	}
	// Per class, in the unit of the run's shape, each scaled to its own
	// peak: the intended rate of each class over the run.
	for _, c := range p.Classes {
		counts, unit := perUnit(c.PerSecond, len(p.PerSecond))
		var total, peak int64
		for _, n := range counts {
			total += n
			peak = max(peak, n)
		}
		line("class", "%s %s (%s requests, peak %s/%s)", report.Sparkline(counts, 60), c.Name, report.Count(total), report.Count(peak), unit[:3])
	}
	writeUnmatched(w, p.Unmatched)
	line("runs for", "%v (last request's offset, clone spread included)", p.Duration.Round(time.Millisecond))
	bound := c.ConnBound()
	if c.Conns == replay.ConnsShared {
		line("conns", "one shared pool of up to %s connections", report.Count(int64(bound)))
		return
	}
	est := min(p.PeakUsers, int64(bound))
	line("conns", "about %s (per user: the most virtual users sending within %v; bound %s)", report.Count(est), connWindow, report.Count(int64(bound)))
}

// plural formats n (thousands separated) with the singular or plural form:
// "1 record", "2,048 records".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return report.Count(n) + " " + many
}

// perUnit returns per-second counts padded to seconds, as they are for a
// run of up to 600 seconds, else summed per minute; and the unit's name.
func perUnit(perSecond []int64, seconds int) ([]int64, string) {
	counts := append(perSecond[:len(perSecond):len(perSecond)], make([]int64, max(0, seconds-len(perSecond)))...)
	if seconds <= 600 {
		return counts, "second"
	}
	var out []int64
	for i, c := range counts {
		if i%60 == 0 {
			out = append(out, 0)
		}
		out[len(out)-1] += c
	}
	return out, "minute"
}

// writeUnmatched warns of the classes whose rules matched no recorded
// session: a rule that matches nothing (a path written wrong, a label the
// capture does not have) reshapes nothing, and says so here rather than
// not at all.
func writeUnmatched(w io.Writer, unmatched []string) {
	if len(unmatched) == 0 {
		return
	}
	fmt.Fprintf(w, "warning: %s matched no recorded session of the window: a rule that matches nothing reshapes nothing:\n", plural(int64(len(unmatched)), "class", "classes"))
	for _, c := range unmatched {
		fmt.Fprintf(w, "  %s\n", c)
	}
}
