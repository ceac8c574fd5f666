package report

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/surge-replay/surge/schema"
)

// KeptUpLateness is the p99 lateness up to which the generator is said to
// have kept up with the schedule (when it also dropped nothing for lateness).
const KeptUpLateness = 5 * time.Millisecond

// KeptUpLatenessClosed is the same bound in closed mode, where a request's
// intended time is its session's previous response plus the think time and
// lateness is how late the session's runner woke for it: a goroutine timer,
// not the open-loop pacer, so its bound is the Go timer's precision under
// load rather than the pacer's.
const KeptUpLatenessClosed = 20 * time.Millisecond

// keptUpBound is the lateness bound for a run's mode.
func keptUpBound(mode string) time.Duration {
	if mode == "closed" {
		return KeptUpLatenessClosed
	}
	return KeptUpLateness
}

// RunSummary is the report of a replay run. Its JSON form (WriteJSON) is
// stable: CI scripts parse it, so fields are only ever added. docs/REPORT.md
// describes every field; in short, with counts of requests:
//
//	target, capture, ratio, speed, seed, mode, start   the RunInfo
//	scheduled      every request of the schedule (= sent + dropped)
//	sent           requests sent (= ok + the sum of errors)
//	completed      sent requests that got a complete HTTP response (any status)
//	ok             sent requests that got a 1xx–3xx response
//	errors         {class: n} of sent requests that failed: the schema's error
//	               classes (timeout, connect, reset, protocol, canceled) and
//	               http_4xx, http_5xx
//	dropped        requests never sent; dropped_by {class: n} says why
//	               (dropped_deadline, dropped_cap, dropped_abort)
//	intended_rps   scheduled / (last intended − first intended time)
//	achieved_rps   sent / duration_s
//	duration_s     first intended time to the last send (or the last intended
//	               time, if later): how long sending took, without the
//	               responses' tail, so a generator that falls behind shows as
//	               achieved_rps below intended_rps
//	latency_ms     {p50, p90, p99, p999, max} of sent requests, errors
//	               included, from the intended time to the end of the response
//	service_ms     the same from the send time
//	lateness_ms    {p50, p99, max} of send time − intended time
//	generator_kept_up  lateness p99 ≤ 5 ms and nothing dropped_deadline
//	client_queue_ms    {waited, p50, p99, max}: waiting inside surge for a connection
//	connect_ms     {p50, p99, max} of connecting the connections requests opened
//	connections    {opened, reused, tls_handshakes, retried, written}
//	routes         per route group, by scheduled, descending
//	regions        per region (when results carry one): counts, errors_by, latency_ms
//	per_second     one entry per second from the first to the last
//	verdict        pass, thresholds_failed, aborted, generator_behind,
//	               unreachable or nothing_scheduled (Settle)
//	verdict_notes  warnings on a pass: 100% of requests failed, with no
//	               threshold set or none on errors (omitted when none)
//	aborted, abort_reason  whether and why the run stopped early
//	thresholds     every threshold's value against its bound (Gate)
//	cohorts        the split at the surge time, when there is one
//
// Percentiles are within 0.1% (per_second ones within 1%) plus 1 µs.
type RunSummary struct {
	RunInfo
	Scheduled int64 `json:"scheduled"`
	Sent      int64 `json:"sent"`
	Completed int64 `json:"completed"`
	OK        int64 `json:"ok"`
	// Errors counts the sent requests that failed, of every class: the
	// same shape (one integer) as routes[].errors, per_second[].errors and
	// cohorts[].errors. ErrorsBy splits it by class, as DroppedBy does
	// Dropped. (Before, "errors" at this level was the map by class.)
	Errors    int64            `json:"errors"`
	ErrorsBy  map[string]int64 `json:"errors_by"`
	Dropped   int64            `json:"dropped"`
	DroppedBy map[string]int64 `json:"dropped_by"`

	// RatioChanges are the changes of the ratio made while the run ran
	// (live control), in order; the header shows them (RatioText). Ratio
	// stays the starting ratio.
	RatioChanges []RatioChange `json:"ratio_changes,omitempty"`

	IntendedRPS float64 `json:"intended_rps"`
	AchievedRPS float64 `json:"achieved_rps"`
	DurationS   float64 `json:"duration_s"`

	Latency         Percentiles `json:"latency_ms"`
	Service         Percentiles `json:"service_ms"`
	Lateness        Lateness    `json:"lateness_ms"`
	GeneratorKeptUp bool        `json:"generator_kept_up"`

	// Connection facts (conns.go): client queueing, connect time of new
	// connections, and connection counts.
	ClientQueue ClientQueue `json:"client_queue_ms"`
	Connect     Lateness    `json:"connect_ms"`
	Connections Connections `json:"connections"`

	Routes    []RouteSummary  `json:"routes"`
	PerSecond []SecondSummary `json:"per_second"`
	// Regions splits the run by region (region.go), when results carry
	// one: counts, errors by class, latency.
	Regions []RegionReport `json:"regions,omitempty"`

	// Outcome is the run's verdict (see Settle): pass, thresholds_failed,
	// aborted, generator_behind, unreachable or nothing_scheduled.
	Outcome string `json:"verdict"`
	// VerdictNotes qualify a pass that gated nothing the errors show
	// (Settle): every request failed, and no threshold was set or none
	// gates on errors. The verdict and the exit code stay pass.
	VerdictNotes []string `json:"verdict_notes,omitempty"`
	// Aborted says the run stopped before the end of its schedule;
	// AbortReason says why (an abort rule, a threshold, an interrupt).
	Aborted     bool   `json:"aborted"`
	AbortReason string `json:"abort_reason,omitempty"`
	// Thresholds are the run's thresholds, evaluated at the end (Gate).
	Thresholds ThresholdResults `json:"thresholds,omitempty"`
	// Cohorts splits the run at its surge time, when it has one (Gate).
	Cohorts *CohortReport `json:"cohorts,omitempty"`
	// Accounts says how virtual users signed in as test accounts; nil
	// without accounts (accounts.go).
	Accounts *AccountsSummary `json:"accounts,omitempty"`
	// WebSocket reports the WebSocket connections, when the run had any
	// (ws.go).
	WebSocket *WebSocketSummary `json:"websocket,omitempty"`
	// Storms is what each reconnect storm of StormPlan did (storm.go).
	Storms []StormReport `json:"storms,omitempty"`

	// TextRoutes is how many routes WriteText lists: 0 means 15, a negative
	// number all of them. Not part of the JSON.
	TextRoutes int `json:"-"`
}

// Percentiles are points of a latency distribution, in milliseconds.
type Percentiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// Lateness are points of the distribution of the generator's lateness (send
// time − intended time), in milliseconds.
type Lateness struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// RouteSummary is the report of one route group. Errors counts the route's
// sent requests that failed, of any class.
type RouteSummary struct {
	Route     string      `json:"route"`
	Scheduled int64       `json:"scheduled"`
	Sent      int64       `json:"sent"`
	OK        int64       `json:"ok"`
	Errors    int64       `json:"errors"`
	Dropped   int64       `json:"dropped"`
	Latency   Percentiles `json:"latency_ms"`
	Service   Percentiles `json:"service_ms"`
}

// SecondSummary is one second of the run, T seconds after its start.
// Intended, OK, Errors, Dropped and the percentiles are of the requests whose
// intended time falls in the second; Sent counts those whose send time does.
type SecondSummary struct {
	T             int64   `json:"t"`
	Intended      int64   `json:"intended"`
	Sent          int64   `json:"sent"`
	OK            int64   `json:"ok"`
	Errors        int64   `json:"errors"`
	Dropped       int64   `json:"dropped"`
	P50MS         float64 `json:"p50_ms"`
	P99MS         float64 `json:"p99_ms"`
	LatenessP99MS float64 `json:"lateness_p99_ms"`
}

// quantiler is what both kinds of HDR histogram answer.
type quantiler interface {
	ValueAtPercentile(p float64) int64
}

// quantileMS returns percentile p of h in milliseconds, at most max µs.
func quantileMS(h quantiler, p float64, max int64) float64 {
	if h == nil {
		return 0
	}
	return float64(min(h.ValueAtPercentile(p), max)) / 1000
}

// percentiles returns the points of h, at most max µs; zero when h is nil.
func percentiles(h quantiler, max int64) Percentiles {
	if h == nil {
		return Percentiles{}
	}
	return Percentiles{
		P50: quantileMS(h, 50, max), P90: quantileMS(h, 90, max), P99: quantileMS(h, 99, max),
		P999: quantileMS(h, 99.9, max), Max: float64(max) / 1000,
	}
}

// Summary returns the report of the results added so far.
func (a *Aggregator) Summary() *RunSummary {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := &RunSummary{
		RunInfo:   a.info,
		Scheduled: a.scheduled, Sent: a.sent, Completed: a.completed, OK: a.ok,
		Errors: sum(a.errors), ErrorsBy: maps.Clone(a.errors), Dropped: a.dropped, DroppedBy: maps.Clone(a.droppedBy),
		Latency: percentiles(a.lat.h, a.lat.max), Service: percentiles(a.svc.h, a.svc.max),
		Lateness: Lateness{
			P50: quantileMS(a.late.h, 50, a.late.max), P99: quantileMS(a.late.h, 99, a.late.max),
			Max: float64(a.late.max) / 1000,
		},
		Routes:    a.routeSummaries(),
		PerSecond: a.seconds(),
		Regions:   a.regionReports(),
	}
	a.conns.summary(s)
	if a.ws != nil {
		s.WebSocket = a.ws.summary()
	}
	if a.storms != nil {
		s.Storms = a.storms.reports()
	}
	// Without a start time, the series starts at the whole second of the
	// earliest intended time (not of the first result added).
	var shift int64
	if a.info.Start.IsZero() && a.scheduled > 0 {
		shift = a.index(a.first)
	}
	s.Start = a.origin.Add(time.Duration(shift) * time.Second)
	for i := range s.PerSecond {
		s.PerSecond[i].T -= shift
	}
	s.Capture = slices.Clone(a.info.Capture)
	if s.Capture == nil {
		s.Capture = []string{}
	}
	// Rates and the duration are rounded to thousandths.
	if span := a.last.Sub(a.first).Seconds(); span > 0 {
		s.IntendedRPS = round3(float64(a.scheduled) / span)
	}
	if a.scheduled > 0 {
		end := a.last
		if a.lastSend.After(end) {
			end = a.lastSend
		}
		if d := end.Sub(a.first).Seconds(); d > 0 {
			s.DurationS = round3(d)
			s.AchievedRPS = round3(float64(a.sent) / d)
		}
	}
	s.GeneratorKeptUp = s.Lateness.P99 <= float64(keptUpBound(s.Mode))/float64(time.Millisecond) &&
		s.DroppedBy[schema.DroppedDeadline] == 0
	s.Settle()
	return s
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func (a *Aggregator) routeSummaries() []RouteSummary {
	routes := make([]RouteSummary, 0, len(a.routes))
	for name, rt := range a.routes {
		routes = append(routes, RouteSummary{
			Route: name, Scheduled: rt.scheduled, Sent: rt.sent, OK: rt.ok,
			Errors: rt.errs, Dropped: rt.dropped,
			Latency: percentiles(rt.lat.quantiler(), rt.lat.max), Service: percentiles(rt.svc.quantiler(), rt.svc.max),
		})
	}
	slices.SortFunc(routes, func(x, y RouteSummary) int {
		return cmp.Or(cmp.Compare(y.Scheduled, x.Scheduled), cmp.Compare(x.Route, y.Route))
	})
	return routes
}

func (a *Aggregator) seconds() []SecondSummary {
	out := make([]SecondSummary, len(a.secs))
	for i, sec := range a.secs {
		out[i].T = a.lo + int64(i)
		if sec == nil {
			continue
		}
		out[i] = SecondSummary{
			T: a.lo + int64(i), Intended: sec.scheduled, Sent: sec.sentAt,
			OK: sec.ok, Errors: sec.errs, Dropped: sec.dropped,
			P50MS: quantileMS(sec.lat.quantiler(), 50, sec.lat.max),
			P99MS: quantileMS(sec.lat.quantiler(), 99, sec.lat.max),
		}
		out[i].LatenessP99MS = quantileMS(sec.late.quantiler(), 99, sec.late.max)
	}
	return out
}

// quantiler returns s's histogram, or nil (not a typed nil) when it has none.
func (s *sparse) quantiler() quantiler {
	if s.h == nil {
		return nil
	}
	return s.h
}

// sum adds up a count by class.
func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
