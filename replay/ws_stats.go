package replay

import (
	"sync"
	"sync/atomic"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// WSStats is what a run's WebSocket connections did beyond their result
// rows: the send lateness of every client message and the staleness of
// every checked server message (HDR histograms, nanoseconds, 1 µs to 1 h at
// 3 significant digits), reconnects and clients that gave up. Safe for
// concurrent use; Stats.WebSocket holds the run's.
type WSStats struct {
	mu         sync.Mutex
	lateness   *hdr.Histogram
	staleness  *hdr.Histogram
	reconnects atomic.Int64
	gaveUp     atomic.Int64
}

func newWSStats() *WSStats {
	return &WSStats{lateness: hdr.New(1, 3600e9, 3), staleness: hdr.New(1, 3600e9, 3)}
}

func (s *WSStats) addLateness(ns []int64) { s.add(s.lateness, ns) }

func (s *WSStats) addStaleness(ns []int64) { s.add(s.staleness, ns) }

func (s *WSStats) add(h *hdr.Histogram, ns []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range ns {
		h.RecordValue(min(max(v, 1), 3600e9)) // early sends (negative) count as on time
	}
}

// Lateness returns a copy of the send lateness histogram of client
// messages (nanoseconds).
func (s *WSStats) Lateness() *hdr.Histogram { return s.copy(s.lateness) }

// Staleness returns a copy of the staleness histogram of checked server
// messages (receive time − producer time, nanoseconds).
func (s *WSStats) Staleness() *hdr.Histogram { return s.copy(s.staleness) }

func (s *WSStats) copy(h *hdr.Histogram) *hdr.Histogram {
	s.mu.Lock()
	defer s.mu.Unlock()
	return hdr.Import(h.Export())
}

// Reconnects returns how many reconnect attempts clients made.
func (s *WSStats) Reconnects() int64 { return s.reconnects.Load() }

// GaveUp returns how many clients gave up reconnecting (their Backoff said
// so).
func (s *WSStats) GaveUp() int64 { return s.gaveUp.Load() }
