package report

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// Summary describes a capture: what surge inspect prints. Its JSON form is
// stable; fields are only ever added.
type Summary struct {
	Paths   []string `json:"paths"`
	Files   int      `json:"files"`
	Kind    string   `json:"kind"`
	Sources []string `json:"sources"`
	Events  int64    `json:"events"`
	// Sessions and Users are distinct counts; Exact is false when they are
	// estimates (more than about a million distinct values).
	Sessions int64 `json:"sessions"`
	Users    int64 `json:"users"`
	Exact    bool  `json:"exact"`
	// First and Last are the times of the first and last event (RFC 3339),
	// long-lived connections aside (see LongLived); DurationS, the rates and
	// PerMinute cover that range.
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
	DurationS float64   `json:"duration_s"`
	// LongLived counts the events that are long-lived connections (a 101
	// upgrade or a tunnel, with connection_ns): counted in Events, not in
	// First, Last and the rates, since such a socket may open hours before
	// the rest of the capture.
	LongLived int64 `json:"long_lived,omitempty"`
	// PeakRPM is the largest number of events in one calendar minute
	// (PeakMinute); MeanRPM is events per minute over the duration.
	PeakRPM    int64     `json:"peak_rpm"`
	PeakMinute time.Time `json:"peak_minute"`
	MeanRPM    float64   `json:"mean_rpm"`
	// Status counts exchanges by status class: "1xx" … "5xx", "unknown".
	Status map[string]int64 `json:"status,omitempty"`
	// TopRoutes are the most frequent route groups (RouteGroup); for viewing
	// events, the most frequent "type content".
	TopRoutes []RouteCount `json:"top_routes"`
	// PerMinute is the event count of every minute from First to Last.
	PerMinute []int64 `json:"per_minute"`
	// TruncatedBodies counts exchanges whose body the capture kept in part
	// (body_truncated): replay does not send them cut as if whole (it skips
	// them as dropped_truncated unless told to send them as kept).
	TruncatedBodies int64 `json:"truncated_bodies"`
	// TimeResolution is the time resolution the capture was written at, as
	// its import recorded it (schema.MetaResolution; the coarsest of its
	// files); empty when unknown. Replay spreads the requests sharing an
	// instant of it over it.
	TimeResolution string `json:"time_resolution,omitempty"`
	// Imports are the import reports recorded in the files' metadata (JSON
	// objects as written by surge import).
	Imports []json.RawMessage `json:"imports,omitempty"`
	// CaptureLoss is what the capture tap that recorded the events wrote
	// and lost (schema.MetaCaptureLoss: the dataset's, else the last
	// file's, whose counts are those of its whole run).
	CaptureLoss json.RawMessage `json:"capture_loss,omitempty"`
}

// RouteCount is a route group and how many events it had.
type RouteCount struct {
	Route string  `json:"route"`
	Count int64   `json:"count"`
	Share float64 `json:"share"`
}

// maxRoutes bounds the distinct routes counted; the rest count as "other".
const maxRoutes = 10_000

// exchangeFacts is the projection of an Exchange a summary reads.
type exchangeFacts struct {
	Time    time.Time `parquet:"time,timestamp(nanosecond:utc),delta"`
	Session string    `parquet:"session"`
	User    string    `parquet:"user"`
	Method  string    `parquet:"method,dict"`
	Path    string    `parquet:"path"`
	Status  *int32    `parquet:"status,optional"`
	// ConnectionNS is absent (nil) in files written before schema 1.1.
	ConnectionNS  *int64 `parquet:"connection_ns,optional"`
	BodyTruncated bool   `parquet:"body_truncated"`
}

func (exchangeFacts) EventKind() schema.Kind  { return schema.KindExchange }
func (e *exchangeFacts) EventTime() time.Time { return e.Time }

// viewFacts is the projection of a ViewingEvent a summary reads.
type viewFacts struct {
	Time    time.Time `parquet:"time,timestamp(nanosecond:utc),delta"`
	User    string    `parquet:"user"`
	Session string    `parquet:"session"`
	Content string    `parquet:"content,dict"`
	Type    string    `parquet:"type,dict"`
}

func (viewFacts) EventKind() schema.Kind  { return schema.KindView }
func (v *viewFacts) EventTime() time.Time { return v.Time }

// Summarize reads the event files at paths (files or dataset directories) in
// the range r and summarizes them, in memory bounded by the number of
// minutes, routes and (up to a million) distinct sessions and users.
func Summarize(paths []string, r eventlog.Range) (*Summary, error) {
	files, err := eventlog.Files(paths, r)
	if err != nil {
		return nil, err
	}
	info, err := eventlog.Stat(files[0])
	if err != nil {
		return nil, err
	}
	a := newAccumulator()
	var infos []eventlog.FileInfo
	var truncated int64
	switch info.Kind {
	case schema.KindExchange:
		infos, err = summarize(files, r, func(e *exchangeFacts) {
			if e.ConnectionNS != nil {
				a.addConnection(e.Time, e.Session, e.User, RouteGroup(e.Method, e.Path))
			} else {
				a.add(e.Time, e.Session, e.User, RouteGroup(e.Method, e.Path))
			}
			a.status(e.Status)
			if e.BodyTruncated {
				truncated++
			}
		})
	case schema.KindView:
		infos, err = summarize(files, r, func(v *viewFacts) {
			a.add(v.Time, v.Session, v.User, v.Type+" "+v.Content)
		})
	case schema.KindFrame:
		infos, err = summarize(files, r, func(f *frameFacts) {
			a.add(f.Time, f.Session, "", f.route())
		})
	case schema.KindResult:
		err = fmt.Errorf("%s is a replay results file: use surge report %s", files[0], files[0])
	default:
		err = fmt.Errorf("report: %s: cannot summarize %q events", files[0], info.Kind)
	}
	if err != nil {
		return nil, err
	}
	s := a.summary()
	s.Paths, s.Kind = paths, string(info.Kind)
	s.TruncatedBodies = truncated
	if err := s.addFileFacts(paths, infos); err != nil {
		return nil, err
	}
	return s, nil
}

// summarize reads the events of files in r into add, and returns the
// files' footer facts the reader found.
func summarize[T any, PT interface {
	*T
	schema.Event
}](files []string, r eventlog.Range, add func(PT)) ([]eventlog.FileInfo, error) {
	rd, err := eventlog.Open[T, PT](files, r)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return rd.Files(), nil
		}
		if err != nil {
			return nil, err
		}
		add(ev)
	}
}

// addFileFacts adds what the files' metadata says: sources, import reports.
func (s *Summary) addFileFacts(paths []string, infos []eventlog.FileInfo) error {
	s.Files = len(infos)
	sources := map[string]bool{}
	var res time.Duration
	for _, info := range infos {
		sources[info.Source] = true
		if d, err := time.ParseDuration(info.Metadata[schema.MetaResolution]); err == nil && d > res {
			res = d
		}
		if rep, ok := info.Metadata[schema.MetaProblems]; ok && json.Valid([]byte(rep)) {
			s.Imports = append(s.Imports, json.RawMessage(rep))
		}
		if loss, ok := info.Metadata[schema.MetaCaptureLoss]; ok && json.Valid([]byte(loss)) {
			s.CaptureLoss = json.RawMessage(loss)
		}
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			meta, err := eventlog.ReadDatasetMeta(p)
			if err != nil {
				return err
			}
			if rep, ok := meta[schema.MetaProblems]; ok && json.Valid([]byte(rep)) && len(s.Imports) == 0 {
				s.Imports = append(s.Imports, json.RawMessage(rep))
			}
			if loss, ok := meta[schema.MetaCaptureLoss]; ok && json.Valid([]byte(loss)) {
				s.CaptureLoss = json.RawMessage(loss)
			}
		}
	}
	s.Sources = slices.Sorted(maps.Keys(sources))
	if res > 0 {
		s.TimeResolution = res.String()
	}
	return nil
}

type accumulator struct {
	events          int64
	first, last     time.Time // of the events but long-lived connections
	conns           int64     // long-lived connections (addConnection)
	connFirst       time.Time // and their first and last start
	connLast        time.Time
	sessions, users Distinct
	minutes         map[int64]int64 // unix minute → events
	routes          map[string]int64
	statuses        map[string]int64
}

func newAccumulator() *accumulator {
	return &accumulator{minutes: map[int64]int64{}, routes: map[string]int64{}, statuses: map[string]int64{}}
}

func (a *accumulator) add(t time.Time, session, user, route string) {
	if a.events == a.conns || t.Before(a.first) {
		a.first = t
	}
	if t.After(a.last) {
		a.last = t
	}
	a.minutes[t.Unix()/60]++
	a.count(session, user, route)
}

// addConnection counts a long-lived connection (an event with a
// connection_ns: a WebSocket or a tunnel) that started at t. It counts as an
// event, but not in the time range, duration, rate and per-minute counts:
// a socket opened hours before a ten-second log does not stretch the capture
// to hours (its start is still its own event time).
func (a *accumulator) addConnection(t time.Time, session, user, route string) {
	if a.conns == 0 || t.Before(a.connFirst) {
		a.connFirst = t
	}
	if t.After(a.connLast) {
		a.connLast = t
	}
	a.conns++
	a.count(session, user, route)
}

// count counts an event's session, user and route.
func (a *accumulator) count(session, user, route string) {
	a.events++
	if session != "" {
		a.sessions.Add(session)
	}
	if user != "" {
		a.users.Add(user)
	}
	if _, ok := a.routes[route]; ok || len(a.routes) < maxRoutes {
		a.routes[route]++
	} else {
		a.routes["other"]++
	}
}

func (a *accumulator) status(s *int32) {
	class := "unknown"
	if s != nil && *s >= 100 && *s < 600 {
		class = fmt.Sprintf("%dxx", *s/100)
	}
	a.statuses[class]++
}

// topRoutes is how many routes a Summary lists.
const topRoutes = 10

func (a *accumulator) summary() *Summary {
	if a.events > 0 && a.events == a.conns {
		a.first, a.last = a.connFirst, a.connLast // nothing else to span
	}
	s := &Summary{Events: a.events, First: a.first.UTC(), Last: a.last.UTC(), LongLived: a.conns}
	var exactS, exactU bool
	s.Sessions, exactS = a.sessions.Count()
	s.Users, exactU = a.users.Count()
	s.Exact = exactS && exactU
	if a.events == 0 {
		return s
	}
	s.DurationS = a.last.Sub(a.first).Seconds()
	from, to := a.first.Unix()/60, a.last.Unix()/60
	for m := from; m <= to; m++ {
		n := a.minutes[m]
		s.PerMinute = append(s.PerMinute, n)
		if n > s.PeakRPM {
			s.PeakRPM, s.PeakMinute = n, time.Unix(m*60, 0).UTC()
		}
	}
	s.MeanRPM = float64(a.events) / max(s.DurationS/60, 1)
	if len(a.statuses) > 0 {
		s.Status = a.statuses
	}
	for r, n := range a.routes {
		s.TopRoutes = append(s.TopRoutes, RouteCount{Route: r, Count: n, Share: float64(n) / float64(a.events)})
	}
	slices.SortFunc(s.TopRoutes, func(x, y RouteCount) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Route, y.Route))
	})
	s.TopRoutes = s.TopRoutes[:min(len(s.TopRoutes), topRoutes)]
	return s
}
