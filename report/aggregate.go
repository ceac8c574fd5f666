package report

import (
	"strings"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/surge-replay/surge/schema"
)

// Error classes the report adds to the schema's: a response with a 4xx or
// 5xx status, and (never expected) a sent request with neither a response
// nor an error class.
const (
	ClassHTTP4xx = "http_4xx"
	ClassHTTP5xx = "http_5xx"
	ClassUnknown = "unknown"
)

// OtherClass and OtherRoute collect the error classes and routes beyond the
// first maxClasses and maxRunRoutes seen, so memory stays bounded whatever
// the results hold.
const (
	OtherClass = "other"
	OtherRoute = "other"
)

const (
	// Histograms record microseconds from 1 µs to 1 h; longer values count
	// as 1 h.
	histMin = 1
	histMax = int64(time.Hour / time.Microsecond)
	// Run-wide and per-route histograms keep 3 significant digits (0.1%);
	// per-second ones 2 (1%).
	runDigits    = 3
	secondDigits = 2

	maxRunRoutes = 1000
	maxClasses   = 64
	// maxSeconds bounds the per-second series either side of the start: a
	// result further away (a broken clock) is counted but not in the series.
	maxSeconds = 7 * 24 * 3600
)

// Aggregator folds replay results into a report: counts by outcome and error
// class, HDR latency histograms for the run and per route, and a per-second
// series. Memory is bounded by the number of routes (at most 1,000, then
// "other") and seconds, not by the number of results: about 0.6 MB for the
// run plus a few KB per route and per second.
//
// Add, Snapshot and Summary are safe for concurrent use: the replay engine
// calls Add for every result from its results goroutine while a progress
// printer calls Snapshot.
//
//	agg := report.NewAggregator(info)
//	for r := range results { agg.Add(r) }
//	err := agg.Summary().WriteText(os.Stdout)
type Aggregator struct {
	mu   sync.Mutex
	info RunInfo
	// origin is the zero of the per-second series: info.Start, or the whole
	// second of the first intended time seen.
	origin time.Time

	tally
	completed         int64
	errors, droppedBy map[string]int64
	lat, svc, late    dense
	first, last       time.Time // earliest and latest intended time
	lastSend          time.Time
	regions           map[string]*runRegion
	conns             connAgg // client queueing and connections (conns.go)

	routes map[string]*routeAgg
	secs   []*second // secs[i] is second lo+i of the series; nil when empty
	lo     int64
	spill  second         // results outside the series
	window *hdr.Histogram // scratch for Snapshot's last seconds, reused
}

// tally counts results by outcome.
type tally struct {
	scheduled, sent, ok, errs, dropped int64
}

func (t *tally) add(dropped bool, class string) {
	t.scheduled++
	switch {
	case dropped:
		t.dropped++
	case class == "":
		t.sent++
		t.ok++
	default:
		t.sent++
		t.errs++
	}
}

type routeAgg struct {
	tally
	lat, svc sparse
}

type second struct {
	tally
	sentAt    int64  // requests sent in this second (the tally is by intended time)
	lat, late sparse // of the requests intended in this second
}

// NewAggregator returns an empty Aggregator for the run that info describes.
// A Ratio or Speed that is not finite is reported as 0.
func NewAggregator(info RunInfo) *Aggregator {
	info = info.normal()
	return &Aggregator{
		info:      info,
		origin:    info.Start,
		errors:    map[string]int64{},
		droppedBy: map[string]int64{},
		lat:       newDense(), svc: newDense(), late: newDense(),
		conns:  newConnAgg(),
		routes: map[string]*routeAgg{},
	}
}

// SetStart sets the run's start (RunInfo.Start), the zero of the
// per-second series, once the run knows it. Call it before the first Add.
func (a *Aggregator) SetStart(t time.Time) {
	a.mu.Lock()
	a.info.Start = t
	a.info = a.info.normal()
	a.origin = a.info.Start
	a.mu.Unlock()
}

// Add folds one result into the report. It does not keep r.
func (a *Aggregator) Add(r *schema.Result) {
	a.mu.Lock()
	a.add(r)
	a.mu.Unlock()
}

func (a *Aggregator) add(r *schema.Result) {
	if a.origin.IsZero() {
		// No start given: cut the series at whole seconds, so the bins do
		// not depend on which result came first.
		a.origin = r.Intended.Truncate(time.Second)
	}
	if a.scheduled == 0 || r.Intended.Before(a.first) {
		a.first = r.Intended
	}
	if a.scheduled == 0 || r.Intended.After(a.last) {
		a.last = r.Intended
	}
	dropped := schema.IsDropped(r.Error)
	class := classify(r)
	a.tally.add(dropped, class)
	rt := a.route(r.Route)
	rt.add(dropped, class)
	a.addRegion(r, dropped, class)
	sec := a.second(r.Intended)
	sec.add(dropped, class)
	if dropped {
		a.droppedBy[key(a.droppedBy, r.Error, OtherClass)]++
		return
	}
	if class != "" {
		a.errors[key(a.errors, class, OtherClass)]++
	}
	if class == "" || class == ClassHTTP4xx || class == ClassHTTP5xx {
		a.completed++
	}
	sent := sendTime(r)
	if sent.After(a.lastSend) {
		a.lastSend = sent
	}
	a.second(sent).sentAt++
	a.lat.record(r.LatencyNS)
	a.svc.record(r.ServiceNS)
	a.late.record(r.LatenessNS)
	a.conns.add(r)
	rt.lat.record(r.LatencyNS, runDigits)
	rt.svc.record(r.ServiceNS, runDigits)
	sec.lat.record(r.LatencyNS, secondDigits)
	sec.late.record(r.LatenessNS, secondDigits)
}

// classify returns the error class of a result that was sent: "" when it got
// a 1xx–3xx response.
func classify(r *schema.Result) string {
	switch {
	case r.Error != "":
		return r.Error
	case r.Status >= 100 && r.Status < 400:
		return ""
	case r.Status >= 400 && r.Status < 500:
		return ClassHTTP4xx
	case r.Status >= 500 && r.Status < 600:
		return ClassHTTP5xx
	case r.Status == 0:
		return ClassUnknown
	}
	return schema.ErrProtocol // a status no HTTP server sends
}

// sendTime is when r was sent: Sent, or Intended plus the lateness when the
// driver left Sent out.
func sendTime(r *schema.Result) time.Time {
	if r.Sent != nil {
		return *r.Sent
	}
	return r.Intended.Add(time.Duration(r.LatenessNS))
}

// key returns k as a key of m: k itself if m has it or has room (copied, as
// the caller's string may live in a reused buffer), else other.
func key(m map[string]int64, k, other string) string {
	if _, ok := m[k]; ok {
		return k
	}
	if len(m) >= maxClasses {
		return other
	}
	return strings.Clone(k)
}

func (a *Aggregator) route(name string) *routeAgg {
	if rt, ok := a.routes[name]; ok {
		return rt
	}
	if len(a.routes) >= maxRunRoutes {
		name = OtherRoute
		if rt, ok := a.routes[name]; ok {
			return rt
		}
	}
	rt := &routeAgg{}
	a.routes[strings.Clone(name)] = rt
	return rt
}

// index returns the number of the second of the series that t falls in.
func (a *Aggregator) index(t time.Time) int64 {
	d := t.Sub(a.origin)
	i := int64(d / time.Second)
	if d < 0 && d%time.Second != 0 {
		i-- // floor, not truncation toward zero
	}
	return i
}

// second returns the series bin of time t, growing the series as needed.
func (a *Aggregator) second(t time.Time) *second {
	i := a.index(t)
	if i < -maxSeconds || i > maxSeconds {
		return &a.spill
	}
	switch {
	case len(a.secs) == 0:
		a.lo = i
		a.secs = append(a.secs, nil)
	case i < a.lo:
		grown := make([]*second, a.lo-i, a.lo-i+int64(len(a.secs)))
		a.secs = append(grown, a.secs...)
		a.lo = i
	case i >= a.lo+int64(len(a.secs)):
		a.secs = append(a.secs, make([]*second, i-a.lo-int64(len(a.secs))+1)...)
	}
	s := a.secs[i-a.lo]
	if s == nil {
		s = &second{}
		a.secs[i-a.lo] = s
	}
	return s
}

// micros converts nanoseconds to whole microseconds within the histograms'
// range.
func micros(ns int64) int64 {
	us := (ns + 500) / 1000
	return min(max(us, 0), histMax)
}

// dense is a run-wide histogram, with the exact maximum beside it.
type dense struct {
	h   *hdr.Histogram
	max int64 // µs
}

func newDense() dense { return dense{h: hdr.New(histMin, histMax, runDigits)} }

func (d *dense) record(ns int64) {
	us := micros(ns)
	_ = d.h.RecordValue(us) // cannot fail: us is within the range
	d.max = max(d.max, us)
}

// sparse is a per-route or per-second histogram: a packed HDR histogram,
// whose memory grows with the buckets used, allocated on first use.
type sparse struct {
	h   *hdr.PackedHistogram
	max int64 // µs
}

func (s *sparse) record(ns int64, digits int) {
	if s.h == nil {
		s.h = hdr.NewPacked(histMin, histMax, digits)
	}
	us := micros(ns)
	_ = s.h.RecordValue(us) // cannot fail: us is within the range
	s.max = max(s.max, us)
}
