package report

import (
	"fmt"
	"time"
)

// GateState is a Gate's aggregates in a form that travels, beside an
// AggregatorState: replay agents of a fleet run (package fleet) publish the
// delta of their Gate once a second, and MergeState folds them into one
// Gate whose Evaluate is what a Gate fed every result of every agent would
// say. Each Filter is the aggregate of one set of threshold tags (keyed by
// Key of a Threshold with those tags and no metric); histograms are the
// packed V2 encoding of AggregatorState. The cohort split does not travel:
// a Gate with a surge time has no state (State returns an error).
type GateState struct {
	First    time.Time     `json:"first,omitzero"`
	Last     time.Time     `json:"last,omitzero"`
	LastSend time.Time     `json:"last_send,omitzero"`
	Filters  []FilterState `json:"filters,omitempty"`
}

// FilterState is the aggregate of the results that match one set of tags.
type FilterState struct {
	Tags      string     `json:"tags"` // e.g. "{route:/api/search}", "" for none
	Tally     TallyState `json:"tally"`
	NewErrors int64      `json:"new_errors,omitempty"`
	Latency   TrendState `json:"latency"`
	Service   TrendState `json:"service"`
	Lateness  TrendState `json:"lateness"`
}

// TrendState is one trend: its histogram, count, and exact sum, minimum
// and maximum in ns.
type TrendState struct {
	Hist HistState `json:"hist"`
	N    int64     `json:"n,omitempty"`
	Sum  int64     `json:"sum,omitempty"`
	Min  int64     `json:"min,omitempty"`
	Max  int64     `json:"max,omitempty"`
}

// filterKey is the key of f's tags in a GateState.
func filterKey(tags []Tag) string { return (&Threshold{Tags: tags}).Key() }

// State returns g's aggregates (see GateState). It is an error for a Gate
// with a surge time (cohorts do not travel); otherwise the error is one of
// the histogram encoder's, which does not fail on histograms g records.
func (g *Gate) State() (*GateState, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cohorts != nil {
		return nil, fmt.Errorf("report: gate state: the cohort split does not travel")
	}
	s := &GateState{}
	if g.any {
		s.First, s.Last, s.LastSend = g.first, g.last, g.lastSend
	}
	seen := map[*filterAgg]bool{}
	for _, f := range g.filters {
		if seen[f] {
			continue
		}
		seen[f] = true
		fs := FilterState{Tags: filterKey(f.tags), Tally: f.tally.state(), NewErrors: f.newErrs}
		for _, t := range []struct {
			in  *trend
			out *TrendState
		}{{&f.lat, &fs.Latency}, {&f.svc, &fs.Service}, {&f.late, &fs.Lateness}} {
			h, err := t.in.sparse.state()
			if err != nil {
				return nil, err
			}
			*t.out = TrendState{Hist: h, N: t.in.n, Sum: t.in.sum, Min: t.in.min, Max: t.in.maxNS}
		}
		s.Filters = append(s.Filters, fs)
	}
	return s, nil
}

// MergeState folds s into g: counts add up, histograms merge, the time
// bounds widen. A filter of s that none of g's thresholds has is an error
// (the two Gates were made from different thresholds), as is an
// undecodable histogram; g is then left partly merged.
func (g *Gate) MergeState(s *GateState) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	byKey := map[string]*filterAgg{}
	for _, f := range g.filters {
		byKey[filterKey(f.tags)] = f
	}
	for _, fs := range s.Filters {
		f := byKey[fs.Tags]
		if f == nil {
			return fmt.Errorf("report: gate merge: no threshold filters on %q", fs.Tags)
		}
		f.tally.merge(fs.Tally)
		f.newErrs += fs.NewErrors
		for _, t := range []struct {
			name string
			in   TrendState
			out  *trend
		}{{"latency", fs.Latency, &f.lat}, {"service", fs.Service, &f.svc}, {"lateness", fs.Lateness, &f.late}} {
			if t.in.N == 0 {
				continue
			}
			if err := t.out.sparse.merge(t.in.Hist, runDigits); err != nil {
				return fmt.Errorf("report: gate merge: %q %s histogram: %w", fs.Tags, t.name, err)
			}
			if t.out.n == 0 || t.in.Min < t.out.min {
				t.out.min = t.in.Min
			}
			t.out.maxNS = max(t.out.maxNS, t.in.Max)
			t.out.n += t.in.N
			t.out.sum += t.in.Sum
		}
	}
	if s.First.IsZero() && s.Last.IsZero() {
		return nil
	}
	if !g.any || s.First.Before(g.first) {
		g.first = s.First
	}
	if !g.any || s.Last.After(g.last) {
		g.last = s.Last
	}
	if s.LastSend.After(g.lastSend) {
		g.lastSend = s.LastSend
	}
	g.any = true
	return nil
}
