package report

import (
	"cmp"
	"errors"
	"io"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/surge-replay/surge/schema"
)

// maxRegions bounds the regions a Timeline splits by; later ones count as
// "other".
const maxRegions = 64

// Timeline folds replay results into the per-second series the HTML report
// and the live view draw: rates, latency percentiles from the intended time
// and from the send, errors by class, the generator's lateness, connections
// and client queueing, and a split by region. It complements the
// Aggregator's per-second series (which travels between agents and stays
// small) with what the charts need.
//
// A second holds the requests intended in it, except Sent and Opened, which
// count by send time. Memory: a few KB per second of the run and per error
// class and region seen (bounded: 64 classes, 64 regions, a week of
// seconds either side of the start).
//
// Add, SetStart and Series are safe for concurrent use, and do nothing (or
// return nothing) on a nil Timeline, so a caller that wants no series can
// pass nil.
type Timeline struct {
	mu      sync.Mutex
	origin  time.Time
	secs    map[int64]*tlSecond
	classes map[string]struct{}
	regions map[string]*regionAgg
}

type tlSecond struct {
	tally
	sentAt, opened, queued int64
	byClass                map[string]int64
	lat, svc, late, queue  sparse
}

type regionAgg struct {
	tally
	lat, svc sparse
}

// NewTimeline returns an empty Timeline whose seconds count from start (zero:
// the whole second of the first result's intended time).
func NewTimeline(start time.Time) *Timeline {
	return &Timeline{origin: start, secs: map[int64]*tlSecond{}, classes: map[string]struct{}{}, regions: map[string]*regionAgg{}}
}

// SetStart sets the zero of the series; call it before the first Add.
func (t *Timeline) SetStart(start time.Time) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.origin = start
	t.mu.Unlock()
}

// Add folds one result into the timeline. It does not keep r.
func (t *Timeline) Add(r *schema.Result) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.origin.IsZero() {
		t.origin = r.Intended.Truncate(time.Second)
	}
	sec := t.second(r.Intended)
	dropped := schema.IsDropped(r.Error)
	class := classify(r)
	if dropped {
		class = r.Error
	}
	rg := t.region(r.Region)
	rg.add(dropped, class)
	if sec == nil {
		return
	}
	sec.add(dropped, class)
	if class != "" {
		if _, ok := t.classes[class]; !ok && len(t.classes) >= maxClasses {
			class = OtherClass
		}
		if _, ok := t.classes[class]; !ok {
			t.classes[class] = struct{}{}
		}
		if sec.byClass == nil {
			sec.byClass = map[string]int64{}
		}
		sec.byClass[class]++
	}
	if dropped {
		return
	}
	sec.lat.record(r.LatencyNS, secondDigits)
	sec.svc.record(r.ServiceNS, secondDigits)
	sec.late.record(r.LatenessNS, secondDigits)
	sec.queue.record(r.QueueNS, secondDigits)
	if r.QueueNS > 0 {
		sec.queued++
	}
	rg.lat.record(r.LatencyNS, runDigits)
	rg.svc.record(r.ServiceNS, runDigits)
	if s := t.second(sendTime(r)); s != nil {
		s.sentAt++
		if r.Conn == schema.ConnNew {
			s.opened++
		}
	}
}

func (t *Timeline) second(at time.Time) *tlSecond {
	d := at.Sub(t.origin)
	i := int64(d / time.Second)
	if d < 0 && d%time.Second != 0 {
		i--
	}
	if i < -maxSeconds || i > maxSeconds {
		return nil
	}
	s := t.secs[i]
	if s == nil {
		s = &tlSecond{}
		t.secs[i] = s
	}
	return s
}

func (t *Timeline) region(name string) *regionAgg {
	if name == "" {
		name = "-"
	}
	if rg, ok := t.regions[name]; ok {
		return rg
	}
	if len(t.regions) >= maxRegions {
		name = OtherRoute
		if rg, ok := t.regions[name]; ok {
			return rg
		}
	}
	rg := &regionAgg{}
	t.regions[name] = rg
	return rg
}

// TimelineSeries is a Timeline's content as plain columns, one entry per
// second from T[0] to the last second with a result, seconds after the
// run's start. Percentiles are in milliseconds, NaN in a second without a
// sent request (a gap in a chart, not a zero).
type TimelineSeries struct {
	T        []float64       `json:"t"`
	Intended []float64       `json:"intended"`  // requests intended in the second
	Sent     []float64       `json:"sent"`      // requests sent in the second
	OK       []float64       `json:"ok"`        // intended in the second, got a 1xx–3xx
	LatP50   []float64       `json:"lat_p50"`   // from the intended time
	LatP90   []float64       `json:"lat_p90"`   //
	LatP99   []float64       `json:"lat_p99"`   //
	LatMax   []float64       `json:"lat_max"`   //
	SvcP50   []float64       `json:"svc_p50"`   // from the send
	SvcP99   []float64       `json:"svc_p99"`   //
	LateP50  []float64       `json:"late_p50"`  // generator lateness
	LateP99  []float64       `json:"late_p99"`  //
	LateMax  []float64       `json:"late_max"`  //
	QueueP99 []float64       `json:"queue_p99"` // client queueing for a connection
	QueueMax []float64       `json:"queue_max"` //
	Queued   []float64       `json:"queued"`    // requests that waited for a connection
	Opened   []float64       `json:"opened"`    // connections opened (by send time)
	ErrClass []string        `json:"error_classes"`
	ErrBy    [][]float64     `json:"errors_by_class"`
	Regions  []RegionSummary `json:"regions,omitempty"`
}

// RegionSummary is one region's share of the run (region "-": results
// without a region).
type RegionSummary struct {
	Region    string      `json:"region"`
	Scheduled int64       `json:"scheduled"`
	Sent      int64       `json:"sent"`
	Errors    int64       `json:"errors"`
	Dropped   int64       `json:"dropped"`
	Latency   Percentiles `json:"latency_ms"`
	Service   Percentiles `json:"service_ms"`
}

// Series returns the timeline's columns (see TimelineSeries); nil for a nil
// Timeline.
func (t *Timeline) Series() *TimelineSeries {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := &TimelineSeries{}
	s.ErrClass = slices.Sorted(maps.Keys(t.classes))
	s.ErrBy = make([][]float64, len(s.ErrClass))
	if len(t.secs) > 0 {
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for i := range t.secs {
			lo, hi = min(lo, i), max(hi, i)
		}
		for i := lo; i <= hi; i++ {
			t.appendSecond(s, i, t.secs[i])
		}
	}
	for name, rg := range t.regions {
		s.Regions = append(s.Regions, RegionSummary{
			Region: name, Scheduled: rg.scheduled, Sent: rg.sent, Errors: rg.errs, Dropped: rg.dropped,
			Latency: percentiles(rg.lat.quantiler(), rg.lat.max), Service: percentiles(rg.svc.quantiler(), rg.svc.max),
		})
	}
	slices.SortFunc(s.Regions, func(x, y RegionSummary) int {
		return cmp.Or(cmp.Compare(y.Scheduled, x.Scheduled), cmp.Compare(x.Region, y.Region))
	})
	return s
}

func (t *Timeline) appendSecond(s *TimelineSeries, i int64, sec *tlSecond) {
	if sec == nil {
		sec = &tlSecond{}
	}
	q := func(h *sparse, p float64) float64 {
		if h.h == nil {
			return math.NaN()
		}
		return quantileMS(h.h, p, h.max)
	}
	mx := func(h *sparse) float64 {
		if h.h == nil {
			return math.NaN()
		}
		return float64(h.max) / 1000
	}
	s.T = append(s.T, float64(i))
	s.Intended = append(s.Intended, float64(sec.scheduled))
	s.Sent = append(s.Sent, float64(sec.sentAt))
	s.OK = append(s.OK, float64(sec.ok))
	s.LatP50 = append(s.LatP50, q(&sec.lat, 50))
	s.LatP90 = append(s.LatP90, q(&sec.lat, 90))
	s.LatP99 = append(s.LatP99, q(&sec.lat, 99))
	s.LatMax = append(s.LatMax, mx(&sec.lat))
	s.SvcP50 = append(s.SvcP50, q(&sec.svc, 50))
	s.SvcP99 = append(s.SvcP99, q(&sec.svc, 99))
	s.LateP50 = append(s.LateP50, q(&sec.late, 50))
	s.LateP99 = append(s.LateP99, q(&sec.late, 99))
	s.LateMax = append(s.LateMax, mx(&sec.late))
	s.QueueP99 = append(s.QueueP99, q(&sec.queue, 99))
	s.QueueMax = append(s.QueueMax, mx(&sec.queue))
	s.Queued = append(s.Queued, float64(sec.queued))
	s.Opened = append(s.Opened, float64(sec.opened))
	for k, c := range s.ErrClass {
		s.ErrBy[k] = append(s.ErrBy[k], float64(sec.byClass[c]))
	}
}

// SeriesOf returns the series a RunSummary's per-second entries hold, for a
// report made without a Timeline (a fleet run's merged report): rates,
// latency p50/p99 from the intended time, lateness p99 and errors as one
// class "errors" (dropped as "dropped"). The other columns are empty.
func SeriesOf(s *RunSummary) *TimelineSeries {
	ts := &TimelineSeries{ErrClass: []string{"errors", "dropped"}, ErrBy: make([][]float64, 2)}
	for _, p := range s.PerSecond {
		ts.T = append(ts.T, float64(p.T))
		ts.Intended = append(ts.Intended, float64(p.Intended))
		ts.Sent = append(ts.Sent, float64(p.Sent))
		ts.OK = append(ts.OK, float64(p.OK))
		nan := p.Intended-p.Dropped == 0
		ts.LatP50 = append(ts.LatP50, nanIf(nan, p.P50MS))
		ts.LatP99 = append(ts.LatP99, nanIf(nan, p.P99MS))
		ts.LateP99 = append(ts.LateP99, nanIf(nan, p.LatenessP99MS))
		ts.ErrBy[0] = append(ts.ErrBy[0], float64(p.Errors))
		ts.ErrBy[1] = append(ts.ErrBy[1], float64(p.Dropped))
	}
	return ts
}

func nanIf(b bool, v float64) float64 {
	if b {
		return math.NaN()
	}
	return v
}

// TimelineOfResults folds the results files of a run (as SummarizeRun reads
// them) into a Timeline counting from start, the run's start (zero: the
// whole second of the earliest intended time).
func TimelineOfResults(paths []string, start time.Time) (*Timeline, error) {
	next, files, closeFn, err := openResults(paths)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	if start.IsZero() {
		for _, f := range files {
			if !f.First.IsZero() && (start.IsZero() || f.First.Before(start)) {
				start = f.First.Truncate(time.Second)
			}
		}
	}
	t := NewTimeline(start)
	var r schema.Result
	for {
		if err := next(&r); err != nil {
			if errors.Is(err, io.EOF) {
				return t, nil
			}
			return nil, err
		}
		t.Add(&r)
	}
}
