package shaper

import "time"

// queue holds requests waiting for their turn, least first by intended time,
// then input order, then clone. Clones are delayed by their jitter, so a
// request can be due after requests of later input events: it waits here
// until the input has moved past its time.
//
// The heap is hand-rolled over pointer-free keys (cheap to swap, no GC write
// barriers); the requests sit still in a slab the keys index, and freed slots
// are reused.
type queue struct {
	heap []key
	reqs []Request
	free []int32
}

type key struct {
	at    time.Duration
	seq   uint64 // input order of the event
	clone int32
	slot  int32 // index in reqs
}

func (a *key) less(b *key) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	if a.seq != b.seq {
		return a.seq < b.seq
	}
	return a.clone < b.clone
}

func (q *queue) len() int { return len(q.heap) }

// min returns the least intended time; q must not be empty.
func (q *queue) min() time.Duration { return q.heap[0].at }

func (q *queue) push(r Request, seq uint64) {
	var slot int32
	if n := len(q.free); n > 0 {
		slot = q.free[n-1]
		q.free = q.free[:n-1]
		q.reqs[slot] = r
	} else {
		slot = int32(len(q.reqs))
		q.reqs = append(q.reqs, r)
	}
	q.heap = append(q.heap, key{at: r.At, seq: seq, clone: r.Clone, slot: slot})
	h := q.heap
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].less(&h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

// kill marks the held requests dead that match: pop skips them. Only for
// exits: it scans every held request.
func (q *queue) kill(match func(*Request) bool) {
	for _, k := range q.heap {
		if r := &q.reqs[k.slot]; r.Exchange != nil && match(r) {
			r.Exchange = nil
		}
	}
}

// pop removes and returns the least request; q must not be empty.
func (q *queue) pop() Request {
	h := q.heap
	slot := h[0].slot
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h[r].less(&h[l]) {
			m = r
		}
		if !h[m].less(&h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	q.heap = h
	r := q.reqs[slot]
	q.reqs[slot] = Request{} // drop references for the GC
	q.free = append(q.free, slot)
	return r
}
