package report

import (
	"fmt"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// AggregatorState is an Aggregator's whole state in a form that travels: its
// JSON is what replay agents publish once a second to a results topic
// (package fleet), and Merge folds any number of them, from any number of
// agents, into one Aggregator whose Summary is the report of them all, as if
// one Aggregator had seen every result.
//
// Histograms are in the HdrHistogram V2 compressed encoding (base64 text;
// the dense run-wide ones and the packed per-route and per-second ones
// alike), microseconds from 1 µs to 1 h. Maxima are exact, in µs.
type AggregatorState struct {
	Info      RunInfo          `json:"info"`
	Origin    time.Time        `json:"origin"` // zero of the per-second series
	Tally     TallyState       `json:"tally"`
	Completed int64            `json:"completed"`
	Errors    map[string]int64 `json:"errors,omitempty"`
	DroppedBy map[string]int64 `json:"dropped_by,omitempty"`
	Latency   HistState        `json:"latency"`
	Service   HistState        `json:"service"`
	Lateness  HistState        `json:"lateness"`
	Queue     HistState        `json:"queue"`
	Connect   HistState        `json:"connect"`
	// Connection counts (Connections, ClientQueue.Waited).
	Queued, Opened, Reused, TLS, Retried, Written int64
	First, Last, LastSend                         time.Time             `json:",omitzero"`
	Routes                                        map[string]RouteState `json:"routes,omitempty"`
	// Seconds are the non-empty seconds of the series, by index from Origin.
	Seconds map[int64]SecondState `json:"seconds,omitempty"`
	Spill   SecondState           `json:"spill"`
}

// TallyState counts results by outcome.
type TallyState struct {
	Scheduled, Sent, OK, Errors, Dropped int64
}

// HistState is one histogram: its V2 encoding (empty when it holds nothing)
// and its exact maximum in µs.
type HistState struct {
	Hist []byte `json:"hist,omitempty"`
	Max  int64  `json:"max,omitempty"`
}

// RouteState is one route's counts and histograms.
type RouteState struct {
	Tally    TallyState `json:"tally"`
	Lat, Svc HistState
}

// SecondState is one second of the series.
type SecondState struct {
	Tally     TallyState `json:"tally"`
	SentAt    int64      `json:"sent_at,omitempty"`
	Lat, Late HistState
}

func (t tally) state() TallyState {
	return TallyState{t.scheduled, t.sent, t.ok, t.errs, t.dropped}
}

func (t *tally) merge(s TallyState) {
	t.scheduled += s.Scheduled
	t.sent += s.Sent
	t.ok += s.OK
	t.errs += s.Errors
	t.dropped += s.Dropped
}

func (d *dense) state() (HistState, error) {
	if d.h.TotalCount() == 0 {
		return HistState{}, nil
	}
	b, err := d.h.Encode(hdr.V2CompressedEncodingCookieBase)
	return HistState{Hist: b, Max: d.max}, err
}

func (d *dense) merge(s HistState) error {
	if len(s.Hist) == 0 {
		return nil
	}
	h, err := hdr.Decode(s.Hist)
	if err != nil {
		return err
	}
	if dropped := d.h.Merge(h); dropped > 0 {
		return fmt.Errorf("%d values outside the histogram's range", dropped)
	}
	d.max = max(d.max, s.Max)
	return nil
}

func (s *sparse) state() (HistState, error) {
	if s.h == nil || s.h.TotalCount() == 0 {
		return HistState{}, nil
	}
	b, err := s.h.Encode()
	return HistState{Hist: b, Max: s.max}, err
}

func (s *sparse) merge(st HistState, digits int) error {
	if len(st.Hist) == 0 {
		return nil
	}
	h, err := hdr.DecodePacked(st.Hist)
	if err != nil {
		return err
	}
	if s.h == nil {
		s.h = hdr.NewPacked(histMin, histMax, digits)
	}
	if dropped := s.h.Merge(h); dropped > 0 {
		return fmt.Errorf("%d values outside the histogram's range", dropped)
	}
	s.max = max(s.max, st.Max)
	return nil
}

func (s *second) state() (SecondState, error) {
	lat, err := s.lat.state()
	if err != nil {
		return SecondState{}, err
	}
	late, err := s.late.state()
	return SecondState{Tally: s.tally.state(), SentAt: s.sentAt, Lat: lat, Late: late}, err
}

func (s *second) merge(st SecondState) error {
	s.tally.merge(st.Tally)
	s.sentAt += st.SentAt
	if err := s.lat.merge(st.Lat, secondDigits); err != nil {
		return err
	}
	return s.late.merge(st.Late, secondDigits)
}

// State returns a's state (see AggregatorState). The error is one of the
// histogram encoder's, which does not fail on histograms a records.
func (a *Aggregator) State() (*AggregatorState, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := &AggregatorState{
		Info: a.info, Origin: a.origin, Tally: a.tally.state(), Completed: a.completed,
		Errors: clone(a.errors), DroppedBy: clone(a.droppedBy),
		Queued: a.conns.queued, Opened: a.conns.opened, Reused: a.conns.reused,
		TLS: a.conns.tls, Retried: a.conns.retried, Written: a.conns.written,
		First: a.first, Last: a.last, LastSend: a.lastSend,
		Routes: map[string]RouteState{}, Seconds: map[int64]SecondState{},
	}
	var err error
	for _, h := range []struct {
		d   *dense
		out *HistState
	}{{&a.lat, &s.Latency}, {&a.svc, &s.Service}, {&a.late, &s.Lateness}, {&a.conns.queue, &s.Queue}, {&a.conns.connect, &s.Connect}} {
		if *h.out, err = h.d.state(); err != nil {
			return nil, err
		}
	}
	for name, rt := range a.routes {
		var r RouteState
		r.Tally = rt.tally.state()
		if r.Lat, err = rt.lat.state(); err != nil {
			return nil, err
		}
		if r.Svc, err = rt.svc.state(); err != nil {
			return nil, err
		}
		s.Routes[name] = r
	}
	for i, sec := range a.secs {
		if sec == nil {
			continue
		}
		if s.Seconds[a.lo+int64(i)], err = sec.state(); err != nil {
			return nil, err
		}
	}
	if s.Spill, err = a.spill.state(); err != nil {
		return nil, err
	}
	return s, nil
}

func clone(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Merge folds s into a: counts add up, histograms merge, the time bounds
// widen. a's RunInfo stays as it is. s's per-second series must count from
// a's origin (the run's start), or from a whole second away; otherwise the
// error says so and a is left partly merged. An undecodable histogram is an
// error naming it.
func (a *Aggregator) Merge(s *AggregatorState) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.Tally.Scheduled == 0 && s.Spill.Tally.Scheduled == 0 {
		return nil
	}
	if a.origin.IsZero() {
		a.origin = s.Origin
	}
	shift := s.Origin.Sub(a.origin)
	if shift%time.Second != 0 {
		return fmt.Errorf("report: merge: series origin %s is not a whole second from %s",
			s.Origin.Format(time.RFC3339Nano), a.origin.Format(time.RFC3339Nano))
	}
	if a.scheduled == 0 || (!s.First.IsZero() && s.First.Before(a.first)) {
		a.first = s.First
	}
	if a.scheduled == 0 || s.Last.After(a.last) {
		a.last = s.Last
	}
	if s.LastSend.After(a.lastSend) {
		a.lastSend = s.LastSend
	}
	a.tally.merge(s.Tally)
	a.completed += s.Completed
	for k, v := range s.Errors {
		a.errors[key(a.errors, k, OtherClass)] += v
	}
	for k, v := range s.DroppedBy {
		a.droppedBy[key(a.droppedBy, k, OtherClass)] += v
	}
	c := &a.conns
	c.queued += s.Queued
	c.opened += s.Opened
	c.reused += s.Reused
	c.tls += s.TLS
	c.retried += s.Retried
	c.written += s.Written
	for _, h := range []struct {
		name string
		d    *dense
		in   HistState
	}{{"latency", &a.lat, s.Latency}, {"service", &a.svc, s.Service}, {"lateness", &a.late, s.Lateness}, {"queue", &c.queue, s.Queue}, {"connect", &c.connect, s.Connect}} {
		if err := h.d.merge(h.in); err != nil {
			return fmt.Errorf("report: merge: %s histogram: %w", h.name, err)
		}
	}
	for name, r := range s.Routes {
		rt := a.route(name)
		rt.tally.merge(r.Tally)
		if err := rt.lat.merge(r.Lat, runDigits); err != nil {
			return fmt.Errorf("report: merge: route %q latency histogram: %w", name, err)
		}
		if err := rt.svc.merge(r.Svc, runDigits); err != nil {
			return fmt.Errorf("report: merge: route %q service histogram: %w", name, err)
		}
	}
	off := int64(shift / time.Second)
	for i, st := range s.Seconds {
		// second() takes a time: the start of the bin's second on a's series.
		sec := a.second(a.origin.Add(time.Duration(i+off) * time.Second))
		if err := sec.merge(st); err != nil {
			return fmt.Errorf("report: merge: second %d histogram: %w", i, err)
		}
	}
	if err := a.spill.merge(s.Spill); err != nil {
		return fmt.Errorf("report: merge: spill histogram: %w", err)
	}
	return nil
}
