package eventlog

import (
	"container/heap"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"

	"github.com/surge-replay/surge/schema"
)

// batchRows is how many rows a cursor decodes at a time.
const batchRows = 1024

// cursor walks the selected row groups of one file in order, yielding the
// events in a Range. Row groups of a surge file are in time order, so the
// first event at or past Range.To ends the cursor.
type cursor[T any, PT event[T]] struct {
	lf     *logFile
	groups []int
	rng    Range
	r      rowReader[T]
	caches *lineCaches // for the columnar RequestLine reader
	group  int         // row group r reads
	batch  []T
	pos    int
	done   bool
	stats  *Stats
}

func newCursor[T any, PT event[T]](lf *logFile, groups []int, rng Range) *cursor[T, PT] {
	return &cursor[T, PT]{lf: lf, groups: groups, rng: rng, batch: make([]T, 0, batchRows), stats: &Stats{}}
}

// peek returns the cursor's next event, or nil at its end. The event is valid
// until the cursor is advanced past it and refilled.
func (c *cursor[T, PT]) peek() (*T, error) {
	for c.pos == len(c.batch) {
		if c.done {
			return nil, nil
		}
		if err := c.fill(); err != nil {
			c.done = true
			return nil, err
		}
	}
	return &c.batch[c.pos], nil
}

func (c *cursor[T, PT]) advance() { c.pos++ }

// fill decodes the next batch of events in range.
func (c *cursor[T, PT]) fill() (err error) {
	defer func() {
		// parquet-go can panic on corrupt pages; a bad file is an error.
		if p := recover(); p != nil {
			err = fmt.Errorf("eventlog: %s: row group %d: corrupt data: %v", c.lf.Path, c.group, p)
		}
	}()
	if c.r == nil {
		if len(c.groups) == 0 {
			c.done = true
			return nil
		}
		c.group, c.groups = c.groups[0], c.groups[1:]
		r, err := c.open(c.lf.file.RowGroups()[c.group])
		if err != nil {
			return fmt.Errorf("eventlog: %s: row group %d: %w", c.lf.Path, c.group, err)
		}
		c.r = r
		c.stats.RowGroupsRead++
	}
	clear(c.batch[:cap(c.batch)])
	n, err := c.r.Read(c.batch[:cap(c.batch)])
	c.batch, c.pos = c.batch[:n], 0
	c.stats.RowsDecoded += int64(n)
	if errors.Is(err, io.EOF) {
		c.r.Close()
		c.r = nil
	} else if err != nil {
		return fmt.Errorf("eventlog: %s: row group %d: %w", c.lf.Path, c.group, err)
	}
	c.trim()
	return nil
}

// open returns the reader of a row group: the columnar one for the replay
// projection, parquet-go's generic row reader otherwise.
func (c *cursor[T, PT]) open(rg parquet.RowGroup) (rowReader[T], error) {
	var zero T
	if _, ok := any(zero).(schema.RequestLine); ok {
		if c.caches == nil {
			c.caches = new(lineCaches)
		}
		r, err := newRequestLineReader(rg, c.lf.file.Schema(), c.caches)
		if err != nil {
			return nil, err
		}
		return any(r).(rowReader[T]), nil
	}
	return parquet.NewGenericRowGroupReader[T](rg), nil
}

// trim drops the events of the batch outside the range.
func (c *cursor[T, PT]) trim() {
	if c.rng == (Range{}) {
		return
	}
	for c.pos < len(c.batch) && !c.rng.contains(PT(&c.batch[c.pos]).EventTime()) {
		if t := PT(&c.batch[c.pos]).EventTime(); !c.rng.To.IsZero() && !t.Before(c.rng.To) {
			c.batch, c.done = c.batch[:c.pos], true
			return
		}
		c.pos++
	}
	for i := len(c.batch) - 1; i >= c.pos; i-- {
		if c.rng.To.IsZero() || PT(&c.batch[i]).EventTime().Before(c.rng.To) {
			break
		}
		c.batch, c.done = c.batch[:i], true
	}
}

// merger yields the events of many cursors in time order (k-way merge); of
// equal times, the earlier cursor's event comes first.
type merger[T any, PT event[T]] struct {
	h       cursorHeap[T, PT]
	started bool
	last    *cursor[T, PT] // cursor whose event was returned last
}

func newMerger[T any, PT event[T]](cursors []*cursor[T, PT]) *merger[T, PT] {
	return &merger[T, PT]{h: cursorHeap[T, PT]{cursors: cursors}}
}

// next returns the next event in time order, or nil at the end. The event is
// valid until the following call.
func (m *merger[T, PT]) next() (*T, error) {
	if !m.started {
		m.started = true
		live := m.h.cursors[:0]
		for i, c := range m.h.cursors {
			ev, err := c.peek()
			if err != nil {
				return nil, err
			}
			if ev != nil {
				m.h.order = append(m.h.order, i)
				live = append(live, c)
			}
		}
		m.h.cursors = live
		heap.Init(&m.h)
	} else if m.last != nil {
		m.last.advance()
		ev, err := m.last.peek()
		if err != nil {
			return nil, err
		}
		if ev == nil {
			heap.Pop(&m.h)
		} else {
			heap.Fix(&m.h, 0)
		}
	}
	if m.h.Len() == 0 {
		m.last = nil
		return nil, nil
	}
	m.last = m.h.cursors[0]
	return m.last.peek()
}

// cursorHeap orders cursors by their next event's time, then by their order
// of creation.
type cursorHeap[T any, PT event[T]] struct {
	cursors []*cursor[T, PT]
	order   []int
}

func (h *cursorHeap[T, PT]) Len() int { return len(h.cursors) }

func (h *cursorHeap[T, PT]) Less(i, j int) bool {
	a, b := h.cursors[i], h.cursors[j]
	ta := PT(&a.batch[a.pos]).EventTime()
	tb := PT(&b.batch[b.pos]).EventTime()
	if c := ta.Compare(tb); c != 0 {
		return c < 0
	}
	return h.order[i] < h.order[j]
}

func (h *cursorHeap[T, PT]) Swap(i, j int) {
	h.cursors[i], h.cursors[j] = h.cursors[j], h.cursors[i]
	h.order[i], h.order[j] = h.order[j], h.order[i]
}

func (h *cursorHeap[T, PT]) Push(x any) { panic("cursorHeap: push is not used") }

func (h *cursorHeap[T, PT]) Pop() any {
	n := len(h.cursors) - 1
	c := h.cursors[n]
	h.cursors, h.order = h.cursors[:n], h.order[:n]
	return c
}
