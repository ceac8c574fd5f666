package report

import (
	"testing"
	"time"
)

// TestSummaryLongLived: a WebSocket opened 6.8 h before a 10-second log is
// counted as an event but does not stretch the time range, duration or rate.
func TestSummaryLongLived(t *testing.T) {
	t0 := time.Date(2017, 2, 3, 11, 49, 19, 980e6, time.UTC)
	tests := []struct {
		comment   string
		conns     []time.Time
		others    []time.Time
		first     time.Time
		durationS float64
	}{
		// The field case: the socket's start is hours before the rest.
		{"socket before the log", []time.Time{t0.Add(-24388 * time.Second)}, []time.Time{t0, t0.Add(10 * time.Second)}, t0, 10},
		// Only connections: their own range.
		{"only connections", []time.Time{t0, t0.Add(5 * time.Second)}, nil, t0, 5},
	}
	for _, tt := range tests {
		a := newAccumulator()
		for _, c := range tt.conns {
			a.addConnection(c, "s1", "", "GET /socket.io/")
		}
		for _, o := range tt.others {
			a.add(o, "s2", "", "GET /api")
		}
		s := a.summary()
		if s.Events != int64(len(tt.conns)+len(tt.others)) || s.LongLived != int64(len(tt.conns)) {
			t.Errorf("%s: events %d long-lived %d; want %d, %d", tt.comment, s.Events, s.LongLived, len(tt.conns)+len(tt.others), len(tt.conns))
		}
		if !s.First.Equal(tt.first) || s.DurationS != tt.durationS {
			t.Errorf("%s: first %v duration %v s; want %v, %v s", tt.comment, s.First, s.DurationS, tt.first, tt.durationS)
		}
	}
}
