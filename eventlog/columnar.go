package eventlog

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
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
// row group column by column, straight from the pages' decoded buffers,
// without parquet-go's row reconstruction by reflection or its per-value
// parquet.Value copies. Repeated strings (methods, hosts, sessions, header
// names and values) come from per-column string caches, so most rows
// allocate nothing; a batch's header lists share one allocation.
type requestLineReader struct {
	time, session, user, seq, method, scheme, host, path, query column
	hname, hvalue, body, region, device, protocol, status       column
	bodySize, latency                                           column          // truncation and think time
	headers                                                     []schema.Header // the current slab rows' header lists are cut from
}

// requestLineColumns are the leaf columns requestLineReader decodes, in the
// order of requestLineReader's fields and of lineCaches. A fresh column's
// strings are plain allocations: session and user ids are many and each
// repeats rarely, so a fresh string costs less than a cache lookup that
// misses.
var requestLineColumns = [...]struct {
	path  []string
	fresh bool
}{
	{path: []string{"time"}}, {path: []string{"session"}, fresh: true}, {path: []string{"user"}, fresh: true},
	{path: []string{"seq"}}, {path: []string{"method"}}, {path: []string{"scheme"}}, {path: []string{"host"}},
	{path: []string{"path"}}, {path: []string{"query"}},
	{path: []string{"headers", "list", "element", "name"}}, {path: []string{"headers", "list", "element", "value"}},
	{path: []string{"body"}}, {path: []string{"region"}}, {path: []string{"device"}}, {path: []string{"protocol"}},
	{path: []string{"status"}},
	{path: []string{"body_size"}}, {path: []string{"latency_ns"}},
}

// lineCaches are the string caches of requestLineColumns, kept by a cursor
// across the row groups of a file.
type lineCaches [len(requestLineColumns)]stringCache

func newRequestLineReader(rg parquet.RowGroup, s *parquet.Schema, caches *lineCaches) (*requestLineReader, error) {
	r := &requestLineReader{}
	chunks := rg.ColumnChunks()
	cols := r.columns()
	for i, c := range cols {
		col := requestLineColumns[i]
		leaf, ok := s.Lookup(col.path...)
		if !ok {
			for _, opened := range cols[:i] {
				opened.close()
			}
			return nil, fmt.Errorf("missing column %v", col.path)
		}
		*c = column{pages: chunks[leaf.ColumnIndex].Pages(), maxDef: byte(leaf.MaxDefinitionLevel)}
		if !col.fresh {
			c.cache = &caches[i]
		}
	}
	return r, nil
}

// columns returns the reader's columns in the order of requestLineColumns.
func (r *requestLineReader) columns() []*column {
	return []*column{&r.time, &r.session, &r.user, &r.seq, &r.method, &r.scheme, &r.host, &r.path, &r.query,
		&r.hname, &r.hvalue, &r.body, &r.region, &r.device, &r.protocol, &r.status, &r.bodySize, &r.latency}
}

// Read decodes up to len(rows) rows.
func (r *requestLineReader) Read(rows []schema.RequestLine) (n int, err error) {
	for i := range rows {
		if err := r.time.load(); err != nil {
			return i, err
		}
		row := &rows[i]
		row.Time = time.Unix(0, r.time.int64()).UTC()
		for _, f := range [...]struct {
			c   *column
			dst *string
		}{{&r.session, &row.Session}, {&r.user, &row.User}, {&r.method, &row.Method}, {&r.scheme, &row.Scheme},
			{&r.host, &row.Host}, {&r.path, &row.Path}, {&r.query, &row.Query}, {&r.region, &row.Region}, {&r.device, &row.Device},
			{&r.protocol, &row.Protocol}} {
			if err := f.c.load(); err != nil {
				return i, unexpected(err)
			}
			*f.dst = f.c.string()
		}
		if err := r.seq.load(); err != nil {
			return i, unexpected(err)
		}
		row.Seq = r.seq.int32()
		if err := r.status.load(); err != nil {
			return i, unexpected(err)
		}
		if row.Status = 0; r.status.null() {
			r.status.skip()
		} else {
			row.Status = r.status.int32()
		}
		if err := r.body.load(); err != nil {
			return i, unexpected(err)
		}
		if b := r.body.bytes(); len(b) > 0 {
			row.Body = bytes.Clone(b)
		}
		if err := r.bodySize.load(); err != nil {
			return i, unexpected(err)
		}
		// Validated at write: body_truncated is body_size > len(body).
		row.BodySize = r.bodySize.int64()
		row.BodyTruncated = row.BodySize > int64(len(row.Body))
		if err := r.latency.load(); err != nil {
			return i, unexpected(err)
		}
		row.LatencyNS = nil
		if r.latency.null() {
			r.latency.skip()
		} else {
			v := r.latency.int64()
			row.LatencyNS = &v
		}
		if row.Headers, err = r.readHeaders(); err != nil {
			return i, unexpected(err)
		}
	}
	return len(rows), nil
}

// readHeaders decodes one row's header list: its levels run until the next
// level with repetition level 0; an empty list is one null level. The list
// is cut from a shared slab, with its capacity clipped so an append by the
// caller copies instead of overwriting the next row's list.
func (r *requestLineReader) readHeaders() ([]schema.Header, error) {
	start := len(r.headers)
	for first := true; ; first = false {
		if err := r.hname.load(); err != nil {
			if !first && errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		if !first && r.hname.rep() == 0 {
			break
		}
		if err := r.hvalue.load(); err != nil {
			return nil, err
		}
		if r.hname.null() {
			r.hname.skip()
			r.hvalue.skip()
			return nil, nil // an empty list
		}
		if len(r.headers) == cap(r.headers) {
			// A new slab: the old one stays with the rows cut from it.
			r.headers = append(make([]schema.Header, 0, max(4096, 2*(len(r.headers)-start)+16)), r.headers[start:]...)
			start = 0
		}
		r.headers = append(r.headers, schema.Header{Name: r.hname.string(), Value: r.hvalue.string()})
	}
	return r.headers[start:len(r.headers):len(r.headers)], nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Close releases the column readers.
func (r *requestLineReader) Close() error {
	for _, c := range r.columns() {
		c.close()
	}
	return nil
}

// column reads the levels and values of one column chunk, a page at a time,
// from the page's decoded buffers. load makes sure a level is at hand; the
// typed getters consume it.
type column struct {
	pages  parquet.Pages
	page   parquet.Page
	done   bool
	maxDef byte
	n      int // levels in the page
	pos    int // the next level
	val    int // the next non-null value
	reps   []byte
	defs   []byte
	i64    []int64
	i32    []int32
	data   []byte   // byte array values of a plain page...
	offs   []uint32 // ...and their offsets
	idx    []int32  // dictionary indexes of a dictionary-encoded page
	dict   parquet.Dictionary
	dstr   []string     // dict's values as strings
	cache  *stringCache // nil: every value is a fresh string
}

// load makes the column's next level available, reading pages as needed; it
// returns io.EOF at the end of the chunk.
func (c *column) load() error {
	for c.pos == c.n {
		if c.done {
			return io.EOF
		}
		if c.page != nil {
			// Every value of the previous page is consumed or copied: its
			// memory can go back to the pool.
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
		c.set(p)
	}
	return nil
}

// set makes p the current page.
func (c *column) set(p parquet.Page) {
	c.page, c.n, c.pos, c.val = p, int(p.NumValues()), 0, 0
	c.reps, c.defs = p.RepetitionLevels(), p.DefinitionLevels()
	c.i64, c.i32, c.data, c.offs, c.idx = nil, nil, nil, nil, nil
	data := p.Data()
	if d := p.Dictionary(); d != nil {
		c.idx = data.Int32()
		if d != c.dict {
			c.dict, c.dstr = d, c.dictStrings(d)
		}
		return
	}
	switch p.Type().Kind() {
	case parquet.Int64:
		c.i64 = data.Int64()
	case parquet.Int32:
		c.i32 = data.Int32()
	case parquet.ByteArray:
		c.data, c.offs = data.ByteArray()
	}
}

// dictStrings returns the values of a byte-array dictionary as strings.
func (c *column) dictStrings(d parquet.Dictionary) []string {
	if d.Type().Kind() != parquet.ByteArray {
		return nil
	}
	values := d.Page().Data()
	data, offs := values.ByteArray()
	s := make([]string, d.Len())
	for i := range s {
		s[i] = string(data[offs[i]:offs[i+1]])
	}
	return s
}

// rep returns the repetition level of the next level.
func (c *column) rep() byte {
	if c.reps == nil {
		return 0
	}
	return c.reps[c.pos]
}

// null reports whether the next level holds no value.
func (c *column) null() bool { return c.defs != nil && c.defs[c.pos] < c.maxDef }

// skip consumes a null level.
func (c *column) skip() { c.pos++ }

func (c *column) int64() int64 {
	v := c.i64[c.val]
	c.pos, c.val = c.pos+1, c.val+1
	return v
}

func (c *column) int32() int32 {
	v := c.i32[c.val]
	c.pos, c.val = c.pos+1, c.val+1
	return v
}

// bytes returns the next value, pointing into the page: valid until the
// next page is loaded.
func (c *column) bytes() []byte {
	if c.null() {
		c.pos++
		return nil
	}
	i := c.val
	c.pos, c.val = c.pos+1, c.val+1
	if c.idx != nil {
		i = int(c.idx[i])
		values := c.dict.Page().Data()
		data, offs := values.ByteArray()
		return data[offs[i]:offs[i+1]]
	}
	return c.data[c.offs[i]:c.offs[i+1]]
}

// string returns the next value as a string, from the dictionary or the
// column's cache.
func (c *column) string() string {
	if c.null() {
		c.pos++
		return ""
	}
	i := c.val
	c.pos, c.val = c.pos+1, c.val+1
	if c.idx != nil {
		return c.dstr[c.idx[i]]
	}
	b := c.data[c.offs[i]:c.offs[i+1]]
	if c.cache == nil {
		return string(b)
	}
	return c.cache.get(b)
}

func (c *column) close() {
	if c.page != nil {
		parquet.Release(c.page)
		c.page = nil
	}
	c.pages.Close()
}

// stringCache returns strings for byte sequences, handing out again the
// string it last made for the same bytes in their slot: a lossy interner
// with no map and no clearing. A column's repeated values (user agents, a
// live session's id) cost a hash and a compare instead of an allocation.
// It starts small and doubles, up to maxCacheSlots (small enough to stay in
// a core's cache), while most lookups miss.
type stringCache struct {
	last   string
	slots  []string
	misses int
	seed   maphash.Seed
}

const (
	minCacheSlots = 1 << 8
	maxCacheSlots = 1 << 12
)

func (sc *stringCache) get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if sc.last == string(b) {
		return sc.last
	}
	if sc.slots == nil {
		sc.slots, sc.seed = make([]string, minCacheSlots), maphash.MakeSeed()
	}
	slot := &sc.slots[maphash.Bytes(sc.seed, b)&uint64(len(sc.slots)-1)]
	if *slot != string(b) {
		*slot = string(b)
		if sc.misses++; sc.misses > 2*len(sc.slots) && len(sc.slots) < maxCacheSlots {
			sc.slots, sc.misses = make([]string, 2*len(sc.slots)), 0
		}
	}
	sc.last = *slot
	return sc.last
}
