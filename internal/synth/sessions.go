package synth

import (
	"container/heap"
	"fmt"
	"time"

	"github.com/surge-replay/surge/schema"
)

// Kind is a kind of synthetic session: every session of a kind has the
// same labels and makes Requests requests, Think apart, cycling through
// Paths.
type Kind struct {
	Device, Region, Protocol string
	Paths                    []string // GET paths, cycled; the first is the session's first request
	Status                   int32    // every response's status; 0 means none recorded
	Requests                 int
	Think                    time.Duration
}

// Sessions describes a capture of known structure, for tests and
// benchmarks of what is computed from captures (profiles): exact arrivals
// per second, sessions of fixed shapes, and an optional planted drop.
type Sessions struct {
	Start    time.Time
	Duration time.Duration // sessions start in [Start, Start+Duration)
	// Arrivals returns how many sessions start in second sec (from
	// Start); they start evenly spread over the second, in order.
	Arrivals func(sec int) int
	// Kinds are assigned to sessions in turn: session i is of kind
	// i mod len(Kinds).
	Kinds []Kind
	// DropAt, when set, plants a drop: of the sessions live then, every
	// DropEvery-th (by session number) makes one request to DropPath at
	// DropAt and ends.
	DropAt    time.Time
	DropEvery int
	DropPath  string
	// From and Until, when set, cut the capture to [From, Until), as a
	// recording that starts and stops while traffic runs.
	From, Until time.Time
}

// session is one session being generated.
type genSession struct {
	n    int // session number
	kind *Kind
	next time.Time
	k    int // requests made
	drop bool
}

type sessionHeap []*genSession

func (h sessionHeap) Len() int { return len(h) }
func (h sessionHeap) Less(i, j int) bool {
	if !h[i].next.Equal(h[j].next) {
		return h[i].next.Before(h[j].next)
	}
	return h[i].n < h[j].n
}
func (h sessionHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *sessionHeap) Push(x any)   { *h = append(*h, x.(*genSession)) }
func (h *sessionHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Generate calls emit with every request of the capture s describes, in
// time order (ties in session order). The Exchange is reused between
// calls.
func (s *Sessions) Generate(emit func(*schema.Exchange) error) error {
	if len(s.Kinds) == 0 || s.Arrivals == nil {
		return fmt.Errorf("synth: sessions need kinds and arrivals")
	}
	var h sessionHeap
	n := 0
	secs := int(s.Duration / time.Second)
	nextSec := 0
	// startSecond queues the sessions starting in second sec.
	startSecond := func(sec int) {
		k := s.Arrivals(sec)
		for j := range k {
			at := s.Start.Add(time.Duration(sec)*time.Second + time.Duration(j)*time.Second/time.Duration(k))
			heap.Push(&h, &genSession{n: n, kind: &s.Kinds[n%len(s.Kinds)], next: at})
			n++
		}
	}
	var e schema.Exchange
	for {
		// Sessions of a second start before anything later is emitted.
		for nextSec < secs && (h.Len() == 0 || !h[0].next.Before(s.Start.Add(time.Duration(nextSec)*time.Second))) {
			startSecond(nextSec)
			nextSec++
		}
		if h.Len() == 0 {
			return nil
		}
		g := h[0]
		if !s.Until.IsZero() && !g.next.Before(s.Until) && !s.Start.Add(time.Duration(nextSec)*time.Second).Before(s.Until) {
			return nil // the rest is after the cut
		}
		path := g.kind.Paths[g.k%len(g.kind.Paths)]
		if g.drop {
			path = s.DropPath
		}
		e = schema.Exchange{Time: g.next, Session: fmt.Sprintf("s%08d", g.n), User: fmt.Sprintf("u%08d", g.n), Seq: int32(g.k),
			Method: "GET", Scheme: "https", Host: "api.streamco.example", Path: path,
			Region: g.kind.Region, Device: g.kind.Device, Protocol: g.kind.Protocol, Source: "synth"}
		if g.kind.Status != 0 {
			e.Status = schema.Int32(g.kind.Status)
		}
		if (s.From.IsZero() || !g.next.Before(s.From)) && (s.Until.IsZero() || g.next.Before(s.Until)) {
			if err := emit(&e); err != nil {
				return err
			}
		}
		g.k++
		next := g.next.Add(g.kind.Think)
		switch {
		case g.drop || g.k >= g.kind.Requests:
			heap.Pop(&h)
			continue
		case !s.DropAt.IsZero() && s.DropEvery > 0 && g.n%s.DropEvery == 0 && !next.Before(s.DropAt) && g.next.Before(s.DropAt):
			g.drop, next = true, s.DropAt
		}
		g.next = next
		heap.Fix(&h, 0)
	}
}
