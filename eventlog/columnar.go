package eventlog

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/surge-replay/surge/schema"
)

// rowReader reads the rows of one row group into a batch.
type rowReader[T any] interface {
	Read(rows []T) (int, error)
	Close() error
}

// requestLineReader decodes the replay projection (schema.RequestLine) of a
// row group column by column, without parquet-go's row reconstruction by
// reflection, and interns repeated strings (methods, hosts, paths, session
// ids, header names and values) so most rows allocate nothing but their
// header slice.
type requestLineReader struct {
	time, session, user, seq, method, scheme, host, path, query column
	hname, hvalue                                               column
	intern                                                      *interner
}

// requestLineColumns are the leaf columns requestLineReader decodes.
var requestLineColumns = [][]string{
	{"time"}, {"session"}, {"user"}, {"seq"}, {"method"}, {"scheme"}, {"host"}, {"path"}, {"query"},
	{"headers", "list", "element", "name"}, {"headers", "list", "element", "value"},
}

func newRequestLineReader(rg parquet.RowGroup, s *parquet.Schema, in *interner) (*requestLineReader, error) {
	cols := make([]column, len(requestLineColumns))
	chunks := rg.ColumnChunks()
	for i, path := range requestLineColumns {
		leaf, ok := s.Lookup(path...)
		if !ok {
			return nil, fmt.Errorf("missing column %v", path)
		}
		cols[i] = column{pages: chunks[leaf.ColumnIndex].Pages(), buf: make([]parquet.Value, 0, 1024)}
	}
	r := &requestLineReader{intern: in}
	r.time, r.session, r.user, r.seq, r.method, r.scheme, r.host, r.path, r.query = cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8]
	r.hname, r.hvalue = cols[9], cols[10]
	return r, nil
}

// Read decodes up to len(rows) rows.
func (r *requestLineReader) Read(rows []schema.RequestLine) (int, error) {
	for i := range rows {
		v, err := r.time.next()
		if err != nil {
			return i, err
		}
		row := &rows[i]
		row.Time = time.Unix(0, v.Int64()).UTC()
		for _, f := range []struct {
			c   *column
			dst *string
		}{{&r.session, &row.Session}, {&r.user, &row.User}, {&r.method, &row.Method}, {&r.scheme, &row.Scheme},
			{&r.host, &row.Host}, {&r.path, &row.Path}, {&r.query, &row.Query}} {
			v, err := f.c.next()
			if err != nil {
				return i, unexpected(err)
			}
			*f.dst = f.c.str(r.intern, v.ByteArray())
		}
		v, err = r.seq.next()
		if err != nil {
			return i, unexpected(err)
		}
		row.Seq = v.Int32()
		if row.Headers, err = r.headers(row.Headers[:0]); err != nil {
			return i, unexpected(err)
		}
	}
	return len(rows), nil
}

// headers decodes one row's header list: its values run until the next value
// with repetition level 0; an empty list is one null value.
func (r *requestLineReader) headers(hs []schema.Header) ([]schema.Header, error) {
	for first := true; ; first = false {
		if !first {
			v, err := r.hname.peek()
			if errors.Is(err, io.EOF) {
				return hs, nil
			}
			if err != nil {
				return hs, err
			}
			if v.RepetitionLevel() == 0 {
				return hs, nil
			}
		}
		n, err := r.hname.next()
		if err != nil {
			return hs, err
		}
		v, err := r.hvalue.next()
		if err != nil {
			return hs, err
		}
		if n.IsNull() {
			return hs, nil // an empty list
		}
		hs = append(hs, schema.Header{Name: r.hname.str(r.intern, n.ByteArray()), Value: r.hvalue.str(r.intern, v.ByteArray())})
	}
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Close releases the column readers.
func (r *requestLineReader) Close() error {
	for _, c := range []*column{&r.time, &r.session, &r.user, &r.seq, &r.method, &r.scheme, &r.host, &r.path, &r.query, &r.hname, &r.hvalue} {
		c.close()
	}
	return nil
}

// column reads the values of one column chunk, a page at a time.
type column struct {
	pages  parquet.Pages
	page   parquet.Page
	values parquet.ValueReader
	buf    []parquet.Value
	pos    int
	done   bool
	recent [4]string // the last distinct strings decoded, most recent first
}

// str returns b as a string: one of the column's recent values when it
// repeats them (consecutive rows share methods, hosts, sessions), else
// interned.
func (c *column) str(in *interner, b []byte) string {
	for _, s := range c.recent {
		if s == string(b) {
			return s
		}
	}
	s := in.string(b)
	copy(c.recent[1:], c.recent[:len(c.recent)-1])
	c.recent[0] = s
	return s
}

func (c *column) peek() (parquet.Value, error) {
	for c.pos == len(c.buf) {
		if err := c.fill(); err != nil {
			return parquet.Value{}, err
		}
	}
	return c.buf[c.pos], nil
}

func (c *column) next() (parquet.Value, error) {
	v, err := c.peek()
	if err == nil {
		c.pos++
	}
	return v, err
}

func (c *column) fill() error {
	for {
		if c.done {
			return io.EOF
		}
		if c.values == nil {
			// The previous page's values are all consumed: its memory,
			// which they pointed into, can go back to the pool.
			if c.page != nil {
				parquet.Release(c.page)
				c.page = nil
			}
			p, err := c.pages.ReadPage()
			if errors.Is(err, io.EOF) {
				c.done = true
				return io.EOF
			}
			if err != nil {
				return err
			}
			c.page, c.values = p, p.Values()
		}
		n, err := c.values.ReadValues(c.buf[:cap(c.buf)])
		c.buf, c.pos = c.buf[:n], 0
		if errors.Is(err, io.EOF) {
			c.values = nil
		} else if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
}

func (c *column) close() {
	if c.page != nil {
		parquet.Release(c.page)
		c.page, c.values = nil, nil
	}
	c.pages.Close()
}

// interner returns one string per distinct byte sequence, in bounded memory.
type interner struct {
	m map[string]string
}

// internLimit bounds an interner; it starts over when full.
const internLimit = 1 << 16

func newInterner() *interner { return &interner{m: map[string]string{}} }

func (in *interner) string(b []byte) string {
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	if len(in.m) >= internLimit {
		clear(in.m)
	}
	s := string(b)
	in.m[s] = s
	return s
}
