package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/surge-replay/surge/schema"
)

// Reconnect storms in the report: what the clients a storm cut off did
// until they were back. Everything is recomputed from the run's WebSocket
// connection attempts (one result row each) and the storms recorded in the
// RunInfo, so `surge report` over a results file gives the same numbers as
// the run.

// StormInfo is one storm of a run, as recorded in RunInfo.Storms.
type StormInfo struct {
	// AtNS is when it hit: nanoseconds since the run's start.
	AtNS int64 `json:"at_ns"`
	// Spec describes it (shaper.StormSpec.String).
	Spec string `json:"spec"`
	// Restart is true when the target closed the connections (a target
	// restart) rather than surge.
	Restart bool `json:"restart,omitempty"`
	// Policy is the reconnect policy's name ("" or "none": no reconnect);
	// MaxAttempts its limit (0: none): a client with that many failed
	// attempts has given up.
	Policy      string `json:"policy,omitempty"`
	MaxAttempts int    `json:"max_attempts,omitempty"`
}

// ConnAttempt is one WebSocket connection attempt as storms need it: a
// result row of the WebSocket engine.
type ConnAttempt struct {
	// Client is the virtual client: the same across its reconnects.
	Client string
	// Attempt is 0 for the scheduled connection, n for its nth reconnect.
	Attempt int
	// Start is when the handshake began, since the run's start.
	Start time.Duration
	// Handshake is how long until the answer (101 or a refusal); 0 when
	// none came (a connect error, a timeout).
	Handshake time.Duration
	// OK is true when the connection opened (101).
	OK bool
	// End is when the opened connection ended, since the run's start.
	End time.Duration
	// Dropped is true when surge dropped it (a storm); Closed when the
	// target closed it.
	Dropped, Closed bool
}

// connAttemptOf returns the connection attempt of a WebSocket result row,
// its times from origin (the run's start). The client is the virtual
// session's upgrade: recorded session, clone and the upgrade's sequence
// number (a page with two sockets is two clients).
func connAttemptOf(r *schema.Result, origin time.Time) ConnAttempt {
	c := ConnAttempt{
		Client:  fmt.Sprintf("%s/%d/%d", r.Session, r.Clone, r.Seq),
		Attempt: int(r.WSAttempt),
		Start:   r.Intended.Sub(origin),
		OK:      r.Status == 101,
		Dropped: r.WSCloseBy == schema.WSCloseDrop,
		Closed:  r.WSCloseBy == schema.WSCloseTarget,
	}
	if r.Status > 0 {
		c.Handshake = max(time.Duration(r.LatencyNS), 1)
	}
	c.End = c.Start + c.Handshake + time.Duration(r.WSDurationNS)
	return c
}

// restartWindow is how long after a target-restart storm a connection the
// target closes counts as closed by the restart.
const restartWindow = 5 * time.Second

// dropWindow is how long after a storm's time its drops may end (the
// engine closes the chosen connections one after another).
const dropWindow = 5 * time.Second

// endSlack is how much earlier than the storm a connection's end may be
// computed: a row's end is its intended time + handshake + duration, and
// the engine starts the duration when it registers the socket, a little
// after the 101 (13 ms was seen on a loaded machine under the race
// detector).
const endSlack = time.Second

// StormReport is what one storm did to the clients it cut off. Times are
// from the storm's moment.
type StormReport struct {
	StormInfo
	// Dropped counts the clients cut off (dropped by surge, or closed by
	// the target within 5 s of a restart).
	Dropped int `json:"dropped"`
	// Back counts those that reconnected; GaveUp those whose policy gave
	// up (none, or MaxAttempts failed attempts); Out the rest, still
	// trying when the run ended.
	Back   int `json:"back"`
	GaveUp int `json:"gave_up"`
	Out    int `json:"out"`
	// Back50MS and Back95MS are the times until half and 95% of the
	// dropped clients were back (handshake done), in milliseconds; -1 when
	// that many never were.
	Back50MS float64 `json:"back50_ms"`
	Back95MS float64 `json:"back95_ms"`
	// Attempts counts the reconnect attempts of the cut-off clients;
	// Refused those answered with another status than 101 (a 503),
	// Failed those without an answer.
	Attempts int64 `json:"reconnect_attempts"`
	Refused  int64 `json:"refused"`
	Failed   int64 `json:"failed"`
	// AttemptsPerSecond[i] counts the attempts begun in second i after the
	// storm; BackPerSecond[i] the clients back in it.
	AttemptsPerSecond []int64 `json:"attempts_per_second"`
	BackPerSecond     []int64 `json:"back_per_second"`
	// PeakAttemptsPerSecond is the largest of AttemptsPerSecond.
	PeakAttemptsPerSecond int64 `json:"peak_attempts_per_second"`
	// Handshake is the handshake time of the answered attempts.
	Handshake Percentiles `json:"handshake_ms"`
}

// stormTracker collects the WebSocket connection attempts of a run with
// storms. Memory is one small record per attempt. Not safe for concurrent
// use (the Aggregator's lock guards it).
type stormTracker struct {
	storms   []StormInfo // by time
	attempts []ConnAttempt
}

func newStormTracker(storms []StormInfo) *stormTracker {
	s := slices.Clone(storms)
	slices.SortStableFunc(s, func(a, b StormInfo) int { return cmp.Compare(a.AtNS, b.AtNS) })
	return &stormTracker{storms: s}
}

func (t *stormTracker) add(a ConnAttempt) { t.attempts = append(t.attempts, a) }

// outage is one client cut off by one storm.
type outage struct {
	storm  int
	client string
	at     time.Duration // when its connection ended (as computed)
	from   int           // the attempt that was cut
}

// stormOf returns the storm that cut off a connection ending at end, or -1.
func (t *stormTracker) stormOf(a *ConnAttempt) int {
	for i := len(t.storms) - 1; i >= 0; i-- {
		s := &t.storms[i]
		at := time.Duration(s.AtNS)
		if a.End < at-endSlack {
			continue
		}
		switch {
		case a.Dropped && !s.Restart:
			if a.End-at <= dropWindow {
				return i
			}
			return -1 // the latest drop storm is too long ago
		case a.Closed && s.Restart:
			if a.End-at <= restartWindow {
				return i
			}
			return -1
		}
	}
	return -1
}

// reports computes every storm's report.
func (t *stormTracker) reports() []StormReport {
	out := make([]StormReport, len(t.storms))
	for i := range out {
		out[i].StormInfo = t.storms[i]
	}
	byClient := map[string][]*ConnAttempt{}
	var outages []outage
	for i := range t.attempts {
		a := &t.attempts[i]
		byClient[a.Client] = append(byClient[a.Client], a)
		if !a.OK || (!a.Dropped && !a.Closed) {
			continue
		}
		if s := t.stormOf(a); s >= 0 {
			outages = append(outages, outage{storm: s, client: a.Client, at: a.End, from: a.Attempt})
		}
	}
	for _, as := range byClient {
		slices.SortFunc(as, func(a, b *ConnAttempt) int { return cmp.Compare(a.Attempt, b.Attempt) })
	}
	hists := make([]*hdr.Histogram, len(out))
	for i := range hists {
		hists[i] = hdr.New(histMin, histMax, runDigits)
	}
	backs := make([][]time.Duration, len(out))
	for _, o := range outages {
		r := &out[o.storm]
		at := time.Duration(r.AtNS)
		r.Dropped++
		tried, back := 0, false
		for _, a := range byClient[o.client] {
			if a.Attempt <= o.from {
				continue
			}
			tried++
			r.Attempts++
			if sec := int((a.Start - at) / time.Second); sec >= 0 && sec < maxSeconds {
				r.AttemptsPerSecond = grow(r.AttemptsPerSecond, sec)
				r.AttemptsPerSecond[sec]++
			}
			if a.Handshake > 0 {
				hists[o.storm].RecordValue(clampUS(a.Handshake))
			} else {
				r.Failed++
			}
			if !a.OK {
				if a.Handshake > 0 {
					r.Refused++
				}
				continue
			}
			back = true
			d := a.Start + a.Handshake - at
			backs[o.storm] = append(backs[o.storm], d)
			if sec := int(d / time.Second); sec >= 0 && sec < maxSeconds {
				r.BackPerSecond = grow(r.BackPerSecond, sec)
				r.BackPerSecond[sec]++
			}
			break
		}
		switch {
		case back:
			r.Back++
		case r.Policy == "" || r.Policy == "none" || (r.MaxAttempts > 0 && tried >= r.MaxAttempts):
			r.GaveUp++
		default:
			r.Out++
		}
	}
	for i := range out {
		r := &out[i]
		r.Back50MS, r.Back95MS = backTime(backs[i], r.Dropped, 0.5), backTime(backs[i], r.Dropped, 0.95)
		for _, n := range r.AttemptsPerSecond {
			r.PeakAttemptsPerSecond = max(r.PeakAttemptsPerSecond, n)
		}
		r.AttemptsPerSecond = nonNil(r.AttemptsPerSecond)
		r.BackPerSecond = nonNil(r.BackPerSecond)
		r.Handshake = percentilesOf(hists[i])
	}
	return out
}

// backTime returns the time (ms) until share of dropped clients were back,
// or -1 when fewer were.
func backTime(backs []time.Duration, dropped int, share float64) float64 {
	need := int(math.Ceil(share * float64(dropped)))
	if dropped == 0 || need > len(backs) {
		return -1
	}
	slices.Sort(backs)
	return durMS(backs[max(need, 1)-1])
}

func grow(s []int64, i int) []int64 {
	for len(s) <= i {
		s = append(s, 0)
	}
	return s
}

func nonNil(s []int64) []int64 {
	if s == nil {
		return []int64{}
	}
	return s
}

func clampUS(d time.Duration) int64 {
	return min(max(int64(d/time.Microsecond), histMin), histMax)
}

func durMS(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// percentilesOf returns h's points in milliseconds (h records µs).
func percentilesOf(h *hdr.Histogram) Percentiles {
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	at := func(q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1e3 }
	return Percentiles{P50: at(50), P90: at(90), P99: at(99), P999: at(99.9), Max: float64(h.Max()) / 1e3}
}

// writeStorms writes the storms' section of the text report.
func writeStorms(b *strings.Builder, storms []StormReport) {
	if len(storms) == 0 {
		return
	}
	b.WriteString("\nreconnect storms\n")
	for i, s := range storms {
		fmt.Fprintf(b, "  storm %d at +%v: %s\n", i+1, time.Duration(s.AtNS).Round(time.Millisecond), s.Spec)
		fmt.Fprintf(b, "    clients cut off %d: back %d (50%% in %s, 95%% in %s), gave up %d, still out at the end %d\n",
			s.Dropped, s.Back, backText(s.Back50MS), backText(s.Back95MS), s.GaveUp, s.Out)
		fmt.Fprintf(b, "    reconnect attempts %d (peak %d/s), refused %d, no answer %d; handshake p50 %s p99 %s\n",
			s.Attempts, s.PeakAttemptsPerSecond, s.Refused, s.Failed, msText(s.Handshake.P50), msText(s.Handshake.P99))
		if len(s.AttemptsPerSecond) > 0 {
			fmt.Fprintf(b, "    attempts/s  %s  (%d s from the storm%s)\n", sparkline(s.AttemptsPerSecond, 60), len(s.AttemptsPerSecond), counts(s.AttemptsPerSecond))
		}
		if len(s.BackPerSecond) > 0 {
			fmt.Fprintf(b, "    back/s      %s  (%s)\n", sparkline(s.BackPerSecond, 60), strings.TrimPrefix(counts(s.BackPerSecond), ": "))
		}
	}
}

// counts returns ": 40 30 0 20" for a short series, "" for a long one.
func counts(n []int64) string {
	if len(n) > 30 {
		return ""
	}
	return ": " + strings.Trim(fmt.Sprint(n), "[]")
}

func backText(v float64) string {
	if v < 0 {
		return "never"
	}
	return msText(v)
}

func msText(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.2fs", v/1000)
	}
	return fmt.Sprintf("%.1fms", v)
}
