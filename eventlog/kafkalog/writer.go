package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"

	"github.com/surge-replay/surge/schema"
)

// chunk is how many records a Writer hands kafka-go per write. With the
// batch settings below this keeps every partition's record batches large
// (docs/KAFKA.md: small batches cost the consumer half its speed).
const chunk = 30000

// WriterConfig configures a Writer. The zero value works.
type WriterConfig struct {
	// Source names the importer or tap, sent in the surge-source header.
	// Empty sends no such header.
	Source string
	// Create creates the topic when it does not exist (with the address's
	// partitions and replicas). False makes a missing topic an error.
	Create bool
}

// Writer produces exchanges to a topic, keyed by session so that a session
// lives in one partition (murmur2 of the key, as Kafka's Java producer) and
// stamped with the event's time, so that a reader can seek by timestamp.
// Writes wait for every in-sync replica (acks=all).
//
// A Writer sends a chunk of records while its caller fills the next one
// (one write in flight at a time), so encoding and the caller's own work
// overlap the round trips. An error of a write shows at a later Add (or
// Write), or at Close; Count counts only acknowledged records.
//
// A Writer implements eventlog.Sink[schema.Exchange]. It is not safe for
// concurrent use.
//
//	w, err := kafkalog.NewWriter(ctx, addr, kafkalog.WriterConfig{Create: true})
//	...
//	err = w.Add(&ev)
//	...
//	err = w.Close() // flushes
type Writer struct {
	ctx     context.Context
	addr    Addr
	kw      *kafka.Writer
	headers []kafka.Header
	cur     *chunkBuf      // the chunk Add fills
	spare   *chunkBuf      // the chunk in flight, or free for the next
	done    chan writeDone // the in-flight write's result; nil when none
	count   int64
	err     error
	closed  bool
}

// chunkBuf is one chunk of records: the messages and their keys and values.
type chunkBuf struct {
	msgs   []kafka.Message
	arena  []byte   // the keys and values of msgs, back to back
	starts [][2]int // where each message's key and value start in arena
}

// reset empties b, keeping its memory.
func (b *chunkBuf) reset() {
	clear(b.msgs) // drop the references into the arena
	b.msgs, b.arena, b.starts = b.msgs[:0], b.arena[:0], b.starts[:0]
}

// writeDone is the result of one chunk's write.
type writeDone struct {
	n   int
	err error
}

// NewWriter connects a Writer to addr, creating the topic first when cfg
// says so. ctx bounds every write.
func NewWriter(ctx context.Context, addr Addr, cfg WriterConfig) (*Writer, error) {
	if cfg.Create {
		if err := EnsureTopic(ctx, addr); err != nil {
			return nil, err
		}
	} else if _, err := Partitions(ctx, addr); err != nil {
		return nil, err
	}
	kw := &kafka.Writer{
		Addr:         kafka.TCP(addr.Brokers...),
		Transport:    transport,
		Topic:        addr.Topic,
		Balancer:     kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		// kafka-go's defaults (100 messages, 1 s timeout) make tiny batches
		// and a second's wait per synchronous write.
		BatchSize:    5000,
		BatchBytes:   8 << 20,
		BatchTimeout: 5 * time.Millisecond,
		Compression:  compress.Zstd,
		MaxAttempts:  10,
		WriteTimeout: 30 * time.Second,
	}
	return &Writer{ctx: ctx, addr: addr, kw: kw, headers: Headers(addr.Format, cfg.Source), cur: &chunkBuf{}, spare: &chunkBuf{}}, nil
}

// Write writes events (the Writer copies them into its buffer).
func (w *Writer) Write(events ...schema.Exchange) error {
	for i := range events {
		if err := w.Add(&events[i]); err != nil {
			return err
		}
	}
	return nil
}

// Add encodes one event into the buffer, sending the buffer when it is full.
func (w *Writer) Add(e *schema.Exchange) error {
	if w.closed {
		return errors.New("kafkalog: write after close")
	}
	if w.err != nil {
		return w.err
	}
	b := w.cur
	k0 := len(b.arena)
	b.arena = append(b.arena, e.Session...)
	v0 := len(b.arena)
	var err error
	if b.arena, err = Encode(b.arena, w.addr.Format, e); err != nil {
		return w.fail(fmt.Errorf("kafkalog: encode event of session %q: %w", e.Session, err))
	}
	// Offsets into the arena, resolved to slices at send time: the arena
	// may move while it grows.
	b.starts = append(b.starts, [2]int{k0, v0})
	b.msgs = append(b.msgs, kafka.Message{Headers: w.headers, Time: e.Time})
	if len(b.msgs) >= chunk {
		return w.flush()
	}
	return nil
}

// flush waits for the write in flight, if any, and starts writing the
// current chunk; the Writer goes on filling the other one.
func (w *Writer) flush() error {
	if err := w.wait(); err != nil {
		return err
	}
	b := w.cur
	if len(b.msgs) == 0 {
		return nil
	}
	for i := range b.msgs {
		m := &b.msgs[i]
		k0, v0 := b.starts[i][0], b.starts[i][1]
		end := len(b.arena)
		if i+1 < len(b.starts) {
			end = b.starts[i+1][0]
		}
		m.Key, m.Value = b.arena[k0:v0:v0], b.arena[v0:end:end]
	}
	w.done = make(chan writeDone, 1)
	go func(done chan<- writeDone) {
		done <- writeDone{n: len(b.msgs), err: w.kw.WriteMessages(w.ctx, b.msgs...)}
	}(w.done)
	w.cur, w.spare = w.spare, b
	w.cur.reset()
	return nil
}

// wait waits for the write in flight, if any, and counts its records or
// keeps its error.
func (w *Writer) wait() error {
	if w.done == nil {
		return w.err
	}
	d := <-w.done
	w.done = nil
	if d.err != nil {
		return w.fail(fmt.Errorf("kafkalog: produce to %s: %w", w.addr, d.err))
	}
	w.count += int64(d.n)
	return w.err
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// Count returns how many events were acknowledged by the brokers so far.
func (w *Writer) Count() int64 { return w.count }

// SetMetadata is part of eventlog.Sink. A topic has no file footer to carry
// key/value metadata, so the Writer keeps none: what a Parquet file records
// there (source, schema version, kind) travels in every record's headers.
func (w *Writer) SetMetadata(key, value string) {}

// Close sends what is buffered, waits for it to be acknowledged and closes
// the connections. It is safe to call more than once.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	err := w.flush()
	if werr := w.wait(); err == nil {
		err = werr
	}
	w.closed = true
	if cerr := w.kw.Close(); err == nil && cerr != nil {
		err = w.fail(fmt.Errorf("kafkalog: close writer of %s: %w", w.addr, cerr))
	}
	return err
}

// Abort drops the events not yet sent and closes the Writer. Records already
// acknowledged stay in the topic: a log cannot take them back.
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	w.cur, w.spare = nil, nil
	w.kw.Close() // lets a write in flight finish
	if w.done != nil {
		<-w.done
		w.done = nil
	}
}
