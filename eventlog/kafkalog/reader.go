package kafkalog

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// Fetch sizes of a Reader's partition consumers (docs/KAFKA.md): large
// fetches keep the consumer at its speed; MaxWait bounds the wait for the
// last, smaller fetch of a partition (kafka-go's default is 10 s).
const (
	fetchMinBytes = 1 << 20
	fetchMaxBytes = 16 << 20
	fetchMaxWait  = 50 * time.Millisecond
	// chunkEvents is how many decoded events a partition hands the merge at
	// a time.
	chunkEvents = 512
	// stallTimeout is how long a partition may deliver nothing, with records
	// still below its end offset, before the Reader gives up on it.
	stallTimeout = 30 * time.Second
)

// ErrDisorder is the error (wrapped, with topic, partition and offset) of a
// record whose event time is earlier than the record before it in the same
// partition: a Reader merges partitions in time order and cannot sort one.
var ErrDisorder = errors.New("event earlier than the one before it in its partition")

// Reader yields the exchanges of a topic in a time window, in event time
// order, and then io.EOF.
//
// At open it looks every partition's first offset up by record timestamp
// (the record time is the event time; Kafka keeps it in milliseconds, so
// events in the window's first millisecond but before From are skipped
// after decoding) and takes every partition's end offset as it is then, so
// a Reader ends even while producers keep writing. It reads all partitions
// concurrently, decodes records with Decode in the partition's goroutine,
// and merges them by event time (ties: lower partition first). A partition
// stops at its first event at or past the window's end. Each partition must
// be in time order, as a Writer fed an in-order import leaves it; a record
// out of order is an error wrapping ErrDisorder. It reads without a consumer
// group and commits nothing.
//
// A Reader is not safe for concurrent use; Close it to stop its goroutines.
//
//	r, err := kafkalog.OpenReader(ctx, addr, eventlog.Range{From: t1, To: t2})
//	...
//	defer r.Close()
//	for {
//		ev, err := r.Next()
//		if err == io.EOF { break }
//		...
//	}
type Reader struct {
	addr   Addr
	rng    eventlog.Range
	cancel context.CancelFunc
	wg     sync.WaitGroup
	parts  []*partition
	h      partHeap
	last   *partition // the partition whose event Next returned last
	init   bool
	err    error
	events int64
}

// partition is one partition's consumer and its current chunk of events.
type partition struct {
	id         int
	start, end int64
	ch         chan eventChunk
	cur        eventChunk
	pos        int
	progress   atomic.Int64 // records received, for the stall watchdog
}

// eventChunk is a run of decoded events of one partition, or the error that
// ended it. Chunks are never reused, so events handed out stay valid.
type eventChunk struct {
	events []schema.Exchange
	err    error
}

// OpenReader opens a's topic for reading the events in rng (a zero bound is
// open). ctx bounds the lookups and every read; cancelling it makes Next
// return its error. The error of a topic that does not exist wraps
// kafka.UnknownTopicOrPartition.
func OpenReader(ctx context.Context, a Addr, rng eventlog.Range) (*Reader, error) {
	ids, err := Partitions(ctx, a)
	if err != nil {
		return nil, err
	}
	start, end, err := offsets(ctx, a, ids, rng.From.Truncate(time.Millisecond))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &Reader{addr: a, rng: rng, cancel: cancel}
	for _, id := range ids {
		if start[id] >= end[id] {
			continue
		}
		p := &partition{id: id, start: start[id], end: end[id], ch: make(chan eventChunk, 4)}
		r.parts = append(r.parts, p)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.consume(ctx, p)
		}()
	}
	return r, nil
}

// consume reads partition p from its start to its end offset (or the
// window's end) into chunks on p.ch, which it closes.
func (r *Reader) consume(ctx context.Context, p *partition) {
	defer close(p.ch)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go r.watch(ctx, cancel, p)
	kr := kafka.NewReader(kafka.ReaderConfig{
		Brokers:       r.addr.Brokers,
		Topic:         r.addr.Topic,
		Partition:     p.id,
		MinBytes:      fetchMinBytes,
		MaxBytes:      fetchMaxBytes,
		MaxWait:       fetchMaxWait,
		QueueCapacity: 1000,
	})
	defer kr.Close()
	send := func(c eventChunk) bool {
		select {
		case p.ch <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	where := func(off int64) string {
		return fmt.Sprintf("kafka topic %s partition %d offset %d", r.addr.Topic, p.id, off)
	}
	if err := kr.SetOffset(p.start); err != nil {
		send(eventChunk{err: fmt.Errorf("%s: seek: %w", where(p.start), err)})
		return
	}
	// Errors go to p.ch whatever the context (a stalled partition's is
	// cancelled): Next or Close drains the channel until it is closed.
	c := eventChunk{events: make([]schema.Exchange, 0, chunkEvents)}
	var prev time.Time
	for next := p.start; next < p.end; {
		m, err := kr.FetchMessage(ctx)
		if err != nil {
			if cause := context.Cause(ctx); errors.Is(cause, errStalled) {
				err = cause
			}
			p.ch <- eventChunk{err: fmt.Errorf("%s: read: %w", where(next), err)}
			return
		}
		p.progress.Add(1)
		next = m.Offset + 1
		c.events = append(c.events, schema.Exchange{})
		e := &c.events[len(c.events)-1]
		if err := Decode(m.Headers, m.Value, e); err != nil {
			p.ch <- eventChunk{err: fmt.Errorf("%s: decode: %w", where(m.Offset), err)}
			return
		}
		if e.Time.Before(prev) {
			p.ch <- eventChunk{err: fmt.Errorf("%s: %w: %s after %s", where(m.Offset), ErrDisorder,
				e.Time.Format(time.RFC3339Nano), prev.Format(time.RFC3339Nano))}
			return
		}
		prev = e.Time
		if !r.rng.From.IsZero() && e.Time.Before(r.rng.From) {
			c.events = c.events[:len(c.events)-1] // in From's millisecond, before it
			continue
		}
		if !r.rng.To.IsZero() && !e.Time.Before(r.rng.To) {
			c.events = c.events[:len(c.events)-1]
			break // the partition is in order: nothing after this is in the window
		}
		if len(c.events) == chunkEvents {
			if !send(c) {
				return
			}
			c = eventChunk{events: make([]schema.Exchange, 0, chunkEvents)}
		}
	}
	if len(c.events) > 0 {
		send(c)
	}
}

// errStalled is the cause of a partition read that made no progress for
// stallTimeout: records below the end offset taken at open did not arrive
// (deleted by retention, or offsets without records such as transaction
// markers).
var errStalled = fmt.Errorf("no record for %s though the end offset taken at open is further", stallTimeout)

// watch cancels ctx with errStalled when p receives nothing for stallTimeout.
func (r *Reader) watch(ctx context.Context, cancel context.CancelCauseFunc, p *partition) {
	t := time.NewTicker(stallTimeout)
	defer t.Stop()
	seen := p.progress.Load()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n := p.progress.Load(); n == seen && len(p.ch) == 0 {
				cancel(errStalled)
				return
			} else {
				seen = n
			}
		}
	}
}

// Next returns the next event in time order, and nil, io.EOF after the last
// one. The Reader does not reuse the event: it stays valid after later
// calls.
func (r *Reader) Next() (*schema.Exchange, error) {
	if r.err != nil {
		return nil, r.err
	}
	if !r.init {
		r.init = true
		for _, p := range r.parts {
			if r.fill(p) {
				r.h = append(r.h, p)
			}
		}
		if r.err != nil {
			return nil, r.err
		}
		heap.Init(&r.h)
	} else if p := r.last; p != nil {
		p.pos++
		if p.pos < len(p.cur.events) || r.fill(p) {
			heap.Fix(&r.h, 0)
		} else {
			heap.Pop(&r.h)
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	if len(r.h) == 0 {
		r.last = nil
		return nil, io.EOF
	}
	p := r.h[0]
	r.last = p
	r.events++
	return &p.cur.events[p.pos], nil
}

// fill waits for p's next eventChunk; false when p has ended (r.err is set if
// it ended in an error).
func (r *Reader) fill(p *partition) bool {
	c, ok := <-p.ch
	if !ok {
		return false
	}
	if c.err != nil {
		r.err = c.err
		return false
	}
	p.cur, p.pos = c, 0
	return len(c.events) > 0 || r.fill(p)
}

// Count returns how many events Next has returned.
func (r *Reader) Count() int64 { return r.events }

// Close stops the partition consumers and waits for them. It is safe to call
// more than once.
func (r *Reader) Close() error {
	r.cancel()
	for _, p := range r.parts {
		for range p.ch { // unblock a consumer waiting to send
		}
	}
	r.wg.Wait()
	if r.err == nil {
		r.err = errors.New("kafkalog: read after close")
	}
	return nil
}

// partHeap orders partitions by their current event's time, then by id.
type partHeap []*partition

func (h partHeap) Len() int { return len(h) }

func (h partHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if c := a.cur.events[a.pos].Time.Compare(b.cur.events[b.pos].Time); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

func (h partHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

func (h *partHeap) Push(x any) { *h = append(*h, x.(*partition)) }

func (h *partHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	*h = old[:len(old)-1]
	return p
}
