package fleet

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/schema"
)

// span is the part of one partition a generation reads: [start, end).
type span struct {
	partition  int
	start, end int64
}

// spans returns, for each partition of parts, where to read the window
// [from, to): from the committed offset when there is one (≥ 0), else from
// the first record at or after from (by timestamp, a plain lookup outside
// the group), to the first record at or after to, or the end of the
// partition now.
func spans(ctx context.Context, addr kafkalog.Addr, parts []kafka.PartitionAssignment, from, to time.Time) ([]span, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	c := &kafka.Client{Addr: kafka.TCP(addr.Brokers...), Timeout: requestTimeout, Transport: kafkalog.Transport()}
	ask := func(req func(int) kafka.OffsetRequest) (map[int]kafka.PartitionOffsets, error) {
		rs := make([]kafka.OffsetRequest, len(parts))
		for i, p := range parts {
			rs[i] = req(p.ID)
		}
		res, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{addr.Topic: rs}})
		if err != nil {
			return nil, fmt.Errorf("capture %s: list offsets: %w", addr, err)
		}
		m := map[int]kafka.PartitionOffsets{}
		for _, po := range res.Topics[addr.Topic] {
			if po.Error != nil {
				return nil, fmt.Errorf("capture %s: list offsets of partition %d: %w", addr, po.Partition, po.Error)
			}
			m[po.Partition] = po
		}
		return m, nil
	}
	last, err := ask(kafka.LastOffsetOf)
	if err != nil {
		return nil, err
	}
	// atOrAfter returns the first offset at or after t, or the end.
	atOrAfter := func(t time.Time) (map[int]int64, error) {
		at, err := ask(func(p int) kafka.OffsetRequest { return kafka.TimeOffsetOf(p, t) })
		if err != nil {
			return nil, err
		}
		out := map[int]int64{}
		for _, p := range parts {
			out[p.ID] = last[p.ID].LastOffset
			// No record at or after t: the broker answers -1, which
			// kafka-go files under LastOffset.
			for off := range at[p.ID].Offsets {
				if off >= 0 {
					out[p.ID] = off
				}
			}
		}
		return out, nil
	}
	first, err := atOrAfter(from)
	if err != nil {
		return nil, err
	}
	// Record times are whole ms and the lookup floors to the ms: look up
	// the end at the next whole ms, or a window ending 1 ns after the last
	// event (a window to the capture's end) would leave that event out. The
	// shaper drops what lies past to.
	if c := to.Truncate(time.Millisecond); !c.Equal(to) {
		to = c.Add(time.Millisecond)
	}
	end, err := atOrAfter(to)
	if err != nil {
		return nil, err
	}
	out := make([]span, 0, len(parts))
	for _, p := range parts {
		s := span{partition: p.ID, start: first[p.ID], end: end[p.ID]}
		if p.Offset >= 0 {
			s.start = p.Offset
		}
		out = append(out, s)
	}
	return out, nil
}

// event is a decoded capture record and where it came from.
type event struct {
	ex        *schema.Exchange
	partition int
	offset    int64
}

// readSpan reads s's records into out in batches, decoded, until the end of
// s or ctx's end. A record that does not decode ends the
// read with an error naming partition and offset.
func readSpan(ctx context.Context, addr kafkalog.Addr, s span, out chan<- []event) error {
	if s.start >= s.end {
		return nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: addr.Brokers, Topic: addr.Topic, Partition: s.partition,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond,
	})
	defer r.Close()
	if err := r.SetOffset(s.start); err != nil {
		return fmt.Errorf("capture %s partition %d: seek to %d: %w", addr, s.partition, s.start, err)
	}
	const batch = 256
	buf := make([]event, 0, batch)
	flush := func() bool {
		select {
		case out <- buf:
			buf = make([]event, 0, batch)
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return ctx.Err()
		}
		if m.Offset >= s.end {
			break
		}
		e := &schema.Exchange{}
		if err := kafkalog.Decode(m.Headers, m.Value, e); err != nil {
			return fmt.Errorf("capture %s partition %d offset %d: %w", addr, m.Partition, m.Offset, err)
		}
		buf = append(buf, event{ex: e, partition: m.Partition, offset: m.Offset})
		if (len(buf) == batch || r.Lag() == 0) && !flush() {
			return ctx.Err()
		}
		if m.Offset == s.end-1 {
			break
		}
	}
	if len(buf) > 0 && !flush() {
		return ctx.Err()
	}
	return nil
}

// merged yields the events of several partitions in time order (ties:
// lowest partition first), each partition read by a goroutine of its own.
type merged struct {
	heads []partHead
	errs  chan error
}

type partHead struct {
	ch   chan []event
	buf  []event
	done bool
}

// newMerged starts reading every span.
func newMerged(ctx context.Context, addr kafkalog.Addr, spans []span) *merged {
	m := &merged{errs: make(chan error, len(spans))}
	for _, s := range spans {
		ch := make(chan []event, 4)
		m.heads = append(m.heads, partHead{ch: ch})
		go func() {
			// The error goes first, so next sees it before the close.
			if err := readSpan(ctx, addr, s, ch); err != nil && ctx.Err() == nil {
				m.errs <- err
			}
			close(ch)
		}()
	}
	return m
}

// next returns the earliest head event, or io.EOF when every partition is
// done, or a partition's read error, or ctx's error.
func (m *merged) next(ctx context.Context) (event, error) {
	best := -1
	for i := range m.heads {
		h := &m.heads[i]
		for !h.done && len(h.buf) == 0 {
			select {
			case b, ok := <-h.ch:
				if !ok {
					h.done = true
				}
				h.buf = b
			case err := <-m.errs:
				return event{}, err
			case <-ctx.Done():
				return event{}, ctx.Err()
			}
		}
		if h.done && len(h.buf) == 0 {
			continue
		}
		if best < 0 || h.buf[0].ex.Time.Before(m.heads[best].buf[0].ex.Time) {
			best = i
		}
	}
	if best < 0 {
		select {
		case err := <-m.errs:
			return event{}, err
		default:
		}
		return event{}, io.EOF
	}
	h := &m.heads[best]
	e := h.buf[0]
	h.buf = h.buf[1:]
	return e, nil
}
