package eventlog

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/surge-replay/surge/schema"
)

// DefaultRowGroupRows is the number of events per row group when a
// WriterConfig leaves RowGroupRows zero.
const DefaultRowGroupRows = 128 << 10

// WriterConfig configures a Writer. The zero value works.
type WriterConfig struct {
	// Source names what produced the events (importer or tap); it is written
	// to the file metadata. Empty means "unknown".
	Source string
	// RowGroupRows is the number of events per row group. Zero or negative
	// means DefaultRowGroupRows.
	RowGroupRows int
	// Metadata is extra key/value metadata written into the file.
	Metadata map[string]string
}

func (c *WriterConfig) rowGroupRows() int {
	if c.RowGroupRows <= 0 {
		return DefaultRowGroupRows
	}
	return c.RowGroupRows
}

func (c *WriterConfig) source() string {
	if c.Source == "" {
		return "unknown"
	}
	return c.Source
}

// Writer writes events of one type (schema.Exchange, schema.Frame or
// schema.ViewingEvent) to one Parquet file, sorted by time.
//
// Events are buffered one row group at a time and sorted (stably, so events of
// equal time keep their order). When the input is out of order across row
// groups, Close merges the row groups (each a sorted run) into a sorted file,
// in memory bounded by one page per row group. The file appears at its path
// only when Close succeeds: until then it is a hidden temporary file beside
// it, removed on failure or Abort.
//
// Write takes ownership of the events' slices (headers, body): the caller must
// not modify them afterwards. A Writer is not safe for concurrent use.
//
//	w, err := eventlog.Create[schema.Exchange]("capture.parquet", eventlog.WriterConfig{Source: "nginx"})
//	...
//	for ... { err = w.Write(ev) }
//	err = w.Close()
type Writer[T any, PT event[T]] struct {
	path  string
	cfg   WriterConfig
	kind  schema.Kind
	tmp   *os.File
	pw    *parquet.GenericWriter[T]
	buf   []T
	count int64
	first time.Time
	last  time.Time // latest event time written so far
	// sorted is false once a row group started before the end of the
	// previous one: Close must then merge the row groups.
	sorted bool
	done   bool
}

// event is what the Writer and Reader need of an event type.
type event[T any] interface {
	*T
	schema.Event
}

// Create starts a Writer for path. The file is written to a temporary file in
// the same directory and renamed to path by Close.
func Create[T any, PT event[T]](path string, cfg WriterConfig) (*Writer[T, PT], error) {
	var zero T
	kind := schema.KindOf(zero)
	if kind == "" {
		return nil, fmt.Errorf("eventlog: %T is not an event type", zero)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("eventlog: create %s: %w", path, err)
		}
	}
	tmp, err := createTemp(path)
	if err != nil {
		return nil, err
	}
	w := &Writer[T, PT]{path: path, cfg: cfg, kind: kind, tmp: tmp, sorted: true}
	w.pw = newParquetWriter[T](tmp, kind, &cfg)
	return w, nil
}

func createTemp(path string) (*os.File, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("eventlog: create %s: %w", path, err)
	}
	return tmp, nil
}

func newParquetWriter[T any](f *os.File, kind schema.Kind, cfg *WriterConfig) *parquet.GenericWriter[T] {
	opts := []parquet.WriterOption{
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		// Version 1 data pages are what every Parquet reader handles.
		parquet.DataPageVersion(1),
		parquet.KeyValueMetadata(schema.MetaVersion, schema.Version),
		parquet.KeyValueMetadata(schema.MetaKind, string(kind)),
		parquet.KeyValueMetadata(schema.MetaSource, cfg.source()),
		parquet.CreatedBy("surge", schema.Version, ""),
	}
	for _, k := range sortedKeys(cfg.Metadata) {
		opts = append(opts, parquet.KeyValueMetadata(k, cfg.Metadata[k]))
	}
	return parquet.NewGenericWriter[T](f, opts...)
}

// Write buffers events, writing a row group each time RowGroupRows are
// buffered.
func (w *Writer[T, PT]) Write(events ...T) error {
	if w.done {
		return errors.New("eventlog: write after close")
	}
	for len(events) > 0 {
		n := min(len(events), w.cfg.rowGroupRows()-len(w.buf))
		w.buf = append(w.buf, events[:n]...)
		events = events[n:]
		if len(w.buf) >= w.cfg.rowGroupRows() {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Count returns the number of events written so far.
func (w *Writer[T, PT]) Count() int64 { return w.count + int64(len(w.buf)) }

// SetMetadata sets a key/value metadata entry; it can be called until Close.
func (w *Writer[T, PT]) SetMetadata(key, value string) {
	if w.cfg.Metadata == nil {
		w.cfg.Metadata = map[string]string{}
	}
	w.cfg.Metadata[key] = value
	w.pw.SetKeyValueMetadata(key, value)
}

func (w *Writer[T, PT]) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	sortByTime[T, PT](w.buf)
	lo, hi := PT(&w.buf[0]).EventTime(), PT(&w.buf[len(w.buf)-1]).EventTime()
	if w.count == 0 || lo.Before(w.first) {
		w.first = lo
	}
	if w.count > 0 && lo.Before(w.last) {
		w.sorted = false
	}
	if w.count == 0 || hi.After(w.last) {
		w.last = hi
	}
	if _, err := w.pw.Write(w.buf); err != nil {
		return w.fail(err)
	}
	if err := w.pw.Flush(); err != nil {
		return w.fail(err)
	}
	w.count += int64(len(w.buf))
	clear(w.buf) // drop references to the events' slices
	w.buf = w.buf[:0]
	return nil
}

func (w *Writer[T, PT]) fail(err error) error {
	w.Abort()
	return fmt.Errorf("eventlog: write %s: %w", w.path, err)
}

// Close writes the remaining events and the file footer, sorts the file if
// its row groups overlap in time, and renames it into place. After an error
// nothing is left at path (an existing file there is untouched).
func (w *Writer[T, PT]) Close() error {
	if w.done {
		return nil
	}
	if err := w.flush(); err != nil {
		return err
	}
	w.setRange()
	if err := w.pw.Close(); err != nil {
		return w.fail(err)
	}
	if !w.sorted {
		if err := w.resort(); err != nil {
			return w.fail(err)
		}
	}
	if err := w.tmp.Sync(); err != nil {
		return w.fail(err)
	}
	if err := w.tmp.Close(); err != nil {
		return w.fail(err)
	}
	if err := os.Rename(w.tmp.Name(), w.path); err != nil {
		return w.fail(err)
	}
	w.done = true
	return nil
}

func (w *Writer[T, PT]) setRange() {
	w.pw.SetKeyValueMetadata(schema.MetaEvents, strconv.FormatInt(w.count, 10))
	if w.count > 0 {
		w.pw.SetKeyValueMetadata(schema.MetaFirst, w.first.UTC().Format(time.RFC3339Nano))
		w.pw.SetKeyValueMetadata(schema.MetaLast, w.last.UTC().Format(time.RFC3339Nano))
	}
}

// resort rewrites the temporary file with its row groups (each a sorted run)
// merged in time order.
func (w *Writer[T, PT]) resort() error {
	runs, err := openFile(w.tmp.Name(), w.tmp)
	if err != nil {
		return err
	}
	var cursors []*cursor[T, PT]
	for i := range runs.file.RowGroups() {
		cursors = append(cursors, newCursor[T, PT](runs, []int{i}, Range{}))
	}
	out, err := createTemp(w.path)
	if err != nil {
		return err
	}
	pw := newParquetWriter[T](out, w.kind, &w.cfg)
	n, err := copyMerged(pw, newMerger(cursors), w.cfg.rowGroupRows())
	if err == nil && n != w.count {
		err = fmt.Errorf("merged %d events, wrote %d", n, w.count)
	}
	if err == nil {
		w.pw = pw
		w.setRange()
		err = pw.Close()
	}
	os.Remove(w.tmp.Name())
	w.tmp.Close()
	w.tmp = out
	return err
}

// copyMerged writes every event of m to pw, rows events per row group.
func copyMerged[T any, PT event[T]](pw *parquet.GenericWriter[T], m *merger[T, PT], rows int) (int64, error) {
	batch := make([]T, 0, min(rows, 4096))
	var n, inGroup int64
	for {
		ev, err := m.next()
		if err != nil {
			return n, err
		}
		if ev == nil {
			break
		}
		batch = append(batch, *ev)
		if len(batch) == cap(batch) || inGroup+int64(len(batch)) == int64(rows) {
			if _, err := pw.Write(batch); err != nil {
				return n, err
			}
			n, inGroup = n+int64(len(batch)), inGroup+int64(len(batch))
			clear(batch)
			batch = batch[:0]
			if inGroup == int64(rows) {
				if err := pw.Flush(); err != nil {
					return n, err
				}
				inGroup = 0
			}
		}
	}
	if _, err := pw.Write(batch); err != nil {
		return n, err
	}
	return n + int64(len(batch)), nil
}

// Abort discards the file being written. It is safe to call after Close and
// more than once.
func (w *Writer[T, PT]) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.tmp.Close()
	os.Remove(w.tmp.Name())
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// sortByTime sorts events by time, stably. Input that is already in order
// (the common case) costs one pass; otherwise a permutation of (time, index)
// keys is sorted so the events themselves are moved once.
func sortByTime[T any, PT event[T]](events []T) {
	keys := make([]timeKey, len(events))
	inOrder := true
	for i := range events {
		keys[i] = timeKey{PT(&events[i]).EventTime().UnixNano(), i}
		if i > 0 && keys[i].t < keys[i-1].t {
			inOrder = false
		}
	}
	if inOrder {
		return
	}
	slices.SortStableFunc(keys, func(a, b timeKey) int { return cmp.Compare(a.t, b.t) })
	sorted := make([]T, len(events))
	for i, k := range keys {
		sorted[i] = events[k.i]
	}
	copy(events, sorted)
}

type timeKey struct {
	t int64
	i int
}
