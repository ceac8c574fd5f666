package kafkalog

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
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
//
// It reads record batches on its own connection to the partition's leader
// (kafka.Conn.ReadBatchWith: at least fetchMinBytes, at most fetchMaxBytes,
// waiting at most fetchMaxWait) and decodes them in this goroutine, with no
// per-message channel between kafka-go and the decoder; the decoder cuts
// header slices and optional numbers from per-partition blocks (arena).
func (r *Reader) consume(ctx context.Context, p *partition) {
	defer close(p.ch)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go r.watch(ctx, cancel, p)
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
	// Errors go to p.ch whatever the context (a stalled partition's is
	// cancelled): Next or Close drains the channel until it is closed.
	fail := func(off int64, what string, err error) {
		if cause := context.Cause(ctx); errors.Is(cause, errStalled) {
			err = cause
		}
		p.ch <- eventChunk{err: fmt.Errorf("%s: %s: %w", where(off), what, err)}
	}
	c := eventChunk{events: make([]schema.Exchange, 0, chunkEvents)}
	var (
		prev  time.Time
		ar    arena
		conn  *kafka.Conn
		pause = 50 * time.Millisecond // before reconnecting after a temporary error
	)
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for next := p.start; next < p.end; {
		if conn == nil {
			var err error
			if conn, err = r.dial(ctx, p.id, next); err != nil {
				if ctx.Err() != nil || !temporary(err) || !sleep(ctx, &pause) {
					fail(next, "connect", err)
					return
				}
				continue
			}
		}
		// One deadline per fetch, not per message: the fetch's wait plus
		// the time to read up to fetchMaxBytes.
		conn.SetReadDeadline(time.Now().Add(fetchMaxWait + readTimeout))
		batch := conn.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: fetchMinBytes, MaxBytes: fetchMaxBytes, MaxWait: fetchMaxWait})
		for next < p.end {
			m, err := batch.ReadMessage()
			if err != nil {
				break // io.EOF ends the batch; Close below returns any other error
			}
			p.progress.Add(1)
			next = m.Offset + 1
			c.events = append(c.events, schema.Exchange{})
			e := &c.events[len(c.events)-1]
			if err := decode(m.Headers, m.Value, e, &ar, true); err != nil {
				batch.Close()
				fail(m.Offset, "decode", err)
				return
			}
			if e.Time.Before(prev) {
				batch.Close()
				fail(m.Offset, "read", fmt.Errorf("%w: %s after %s", ErrDisorder,
					e.Time.Format(time.RFC3339Nano), prev.Format(time.RFC3339Nano)))
				return
			}
			prev = e.Time
			if !r.rng.From.IsZero() && e.Time.Before(r.rng.From) {
				c.events = c.events[:len(c.events)-1] // in From's millisecond, before it
				continue
			}
			if !r.rng.To.IsZero() && !e.Time.Before(r.rng.To) {
				c.events = c.events[:len(c.events)-1]
				next = p.end // the partition is in order: nothing after this is in the window
				break
			}
			if len(c.events) == chunkEvents {
				if !send(c) {
					batch.Close()
					return
				}
				c = eventChunk{events: make([]schema.Exchange, 0, chunkEvents)}
			}
		}
		if err := batch.Close(); err != nil && next < p.end {
			if ctx.Err() != nil || !temporary(err) {
				fail(next, "read", err)
				return
			}
			// A broker restarting, a leader moving, a timeout: reconnect
			// (to the leader of the moment) and go on from next.
			conn.Close()
			conn = nil
			if !sleep(ctx, &pause) {
				fail(next, "read", err)
				return
			}
		}
	}
	if len(c.events) > 0 {
		send(c)
	}
}

// sleep waits *pause, then doubles it up to a second; false when ctx ends
// first.
func sleep(ctx context.Context, pause *time.Duration) bool {
	t := time.NewTimer(*pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	*pause = min(2**pause, time.Second)
	return true
}

// readTimeout bounds reading one fetch response off the connection.
const readTimeout = 10 * time.Second

// dial connects to the leader of partition id (trying each bootstrap broker
// in turn) and seeks it to offset off.
func (r *Reader) dial(ctx context.Context, id int, off int64) (*kafka.Conn, error) {
	var errs []error
	for _, b := range r.addr.Brokers {
		conn, err := kafka.DialLeader(ctx, "tcp", b, r.addr.Topic, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := conn.Seek(off, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
			conn.Close()
			return nil, fmt.Errorf("seek: %w", err)
		}
		return conn, nil
	}
	return nil, errors.Join(errs...)
}

// temporary reports whether a read error is worth a reconnect: a Kafka
// error the protocol calls temporary, a timeout or a broken connection (a
// broker restarting). The stall watchdog bounds how long this goes on.
func temporary(err error) bool {
	var ke kafka.Error
	if errors.As(err, &ke) {
		return ke.Temporary()
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
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
