package eventlog

import (
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

// chunkRows is how many in-order events a Writer holds before handing them
// to the Parquet encoder.
const chunkRows = 4096

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
	// Replace lets a DatasetWriter replace a non-empty directory at its
	// path: the old one is moved aside when the new one is complete and
	// removed after the new one is in place. A file Writer always replaces
	// (rename(2) over it).
	Replace bool
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
// Events that arrive in time order stream through in small chunks. When an
// event arrives earlier than one already written, the current row group ends
// and the following events are buffered a whole row group at a time and
// sorted (stably: events of equal time keep their order). Every row group is
// thus a sorted run; if runs overlap, Close merges them into a sorted file in
// bounded memory. The file appears at its path only when Close succeeds:
// until then it is a hidden temporary file beside it, removed on failure or
// Abort.
//
// Write takes ownership of the events' slices (headers, body): the caller must
// not modify them afterwards. A Writer is not safe for concurrent use.
//
//	w, err := eventlog.Create[schema.Exchange]("capture.parquet", eventlog.WriterConfig{Source: "nginx"})
//	...
//	for ... { err = w.Write(ev) }
//	err = w.Close()
type Writer[T any, PT event[T]] struct {
	path string
	cfg  WriterConfig
	kind schema.Kind
	tmp  *os.File
	pw   *parquet.GenericWriter[T]

	buf       []T
	buffering bool // sorting a whole row group in buf, rather than streaming
	inGroup   int  // events written into the current row group
	groupMin  time.Time
	groupMax  time.Time // latest event written or in buf, this row group
	prevMax   time.Time // latest event of the row groups before
	count     int64     // events handed to the encoder
	first     time.Time
	// The time range of the events but long-lived connections, when T
	// is schema.Exchange (spans): reqs of them, longLived others.
	spans             bool
	reqs, longLived   int64
	reqFirst, reqLast time.Time
	// sorted is false once a row group starts before the end of an earlier
	// one: Close must then merge the row groups.
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
	if err := os.MkdirAll(filepath.Dir(path), DirPerm()); err != nil {
		return nil, fmt.Errorf("eventlog: create %s: %w", path, err)
	}
	tmp, err := createTemp(path)
	if err != nil {
		return nil, err
	}
	w := &Writer[T, PT]{path: path, cfg: cfg, kind: kind, tmp: tmp, sorted: true}
	_, w.spans = any((*T)(nil)).(*schema.Exchange)
	w.pw = newParquetWriter[T](tmp, kind, &w.cfg)
	return w, nil
}

// createTemp creates the temporary file that becomes path, with path's
// final permission (FilePerm): CreateTemp makes it private, and the merge
// of out-of-order row groups (sort.go) writes a second one that was left
// 0600.
func createTemp(path string) (*os.File, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("eventlog: create %s: %w", path, err)
	}
	if err := tmp.Chmod(FilePerm()); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("eventlog: create %s: %w", path, err)
	}
	return tmp, nil
}

func newParquetWriter[T any](f *os.File, kind schema.Kind, cfg *WriterConfig) *parquet.GenericWriter[T] {
	opts := []parquet.WriterOption{
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}),
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
	var zero T
	for _, path := range parquet.SchemaOf(zero).Columns() {
		if noBounds[path[0]] {
			// Both: the page header statistics compute the bounds again.
			opts = append(opts, parquet.SkipPageBounds(path...), parquet.SkipPageStatistics(path...))
		}
	}
	return parquet.NewGenericWriter[T](f, opts...)
}

// noBounds are the columns whose min/max statistics are not written: long
// free-form values, keyed-hash ids and the few values every row group holds
// all of (methods, devices), where they prune nothing and cost time to
// compute. Time, seq, status and the other numbers keep theirs.
var noBounds = map[string]bool{
	"session": true, "user": true, "path": true, "query": true, "headers": true, "body": true, "payload": true,
	"method": true, "scheme": true, "region": true, "device": true, "protocol": true, "source": true,
}

// Write writes events, streaming those in time order and sorting the others
// a row group at a time.
func (w *Writer[T, PT]) Write(events ...T) error {
	for i := range events {
		if err := w.Add(&events[i]); err != nil {
			return err
		}
	}
	return nil
}

// Add writes a copy of one event, like Write; it saves a caller holding a
// pointer the copy into a one-event slice (which escapes through the Sink
// interface: one allocation per event).
func (w *Writer[T, PT]) Add(e *T) error {
	if w.done {
		return errors.New("eventlog: write after close")
	}
	t := PT(e).EventTime()
	if w.spans {
		w.span(e, t)
	}
	if !w.buffering && w.inGroup+len(w.buf) > 0 && t.Before(w.groupMax) {
		// Out of order: end this run, sort the next row group in memory.
		if err := w.endGroup(); err != nil {
			return err
		}
		w.buffering = true
	}
	if w.inGroup+len(w.buf) == 0 || t.Before(w.groupMin) {
		w.groupMin = t
	}
	if t.After(w.groupMax) || w.inGroup+len(w.buf) == 0 {
		w.groupMax = t
	}
	w.buf = append(w.buf, *e)
	switch {
	case w.buffering && len(w.buf) >= w.cfg.rowGroupRows():
		if err := w.endGroup(); err != nil {
			return err
		}
		w.buffering = false
	case !w.buffering && len(w.buf) >= min(chunkRows, w.cfg.rowGroupRows()-w.inGroup):
		if err := w.writeBuf(); err != nil {
			return err
		}
		if w.inGroup >= w.cfg.rowGroupRows() {
			if err := w.endGroup(); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeBuf hands the buffered events to the encoder, sorted.
func (w *Writer[T, PT]) writeBuf() error {
	if len(w.buf) == 0 {
		return nil
	}
	sortByTime[T, PT](w.buf)
	if _, err := w.pw.Write(w.buf); err != nil {
		return w.fail(err)
	}
	w.inGroup += len(w.buf)
	w.count += int64(len(w.buf))
	clear(w.buf) // drop references to the events' slices
	w.buf = w.buf[:0]
	return nil
}

// endGroup writes the buffered events and ends the row group.
func (w *Writer[T, PT]) endGroup() error {
	if err := w.writeBuf(); err != nil {
		return err
	}
	if w.inGroup == 0 {
		return nil
	}
	if err := w.pw.Flush(); err != nil {
		return w.fail(err)
	}
	if w.count == int64(w.inGroup) || w.groupMin.Before(w.first) {
		w.first = w.groupMin
	}
	if w.count > int64(w.inGroup) && w.groupMin.Before(w.prevMax) {
		w.sorted = false
	}
	if w.count == int64(w.inGroup) || w.groupMax.After(w.prevMax) {
		w.prevMax = w.groupMax
	}
	w.inGroup = 0
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
	if err := w.endGroup(); err != nil {
		return err
	}
	w.setRange(w.pw)
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

// span counts e, at t, in the range of requests or as a long-lived connection.
func (w *Writer[T, PT]) span(e *T, t time.Time) {
	if any(e).(*schema.Exchange).LongLived() { // a type-word compare, no itab lookup
		w.longLived++
		return
	}
	if w.reqs == 0 || t.Before(w.reqFirst) {
		w.reqFirst = t
	}
	if w.reqs == 0 || t.After(w.reqLast) {
		w.reqLast = t
	}
	w.reqs++
}

// setRange records the event count and time range in pw's metadata, and
// the range of requests when long-lived connections would stretch it.
func (w *Writer[T, PT]) setRange(pw *parquet.GenericWriter[T]) {
	pw.SetKeyValueMetadata(schema.MetaEvents, strconv.FormatInt(w.count, 10))
	if w.count > 0 {
		pw.SetKeyValueMetadata(schema.MetaFirst, w.first.UTC().Format(time.RFC3339Nano))
		pw.SetKeyValueMetadata(schema.MetaLast, w.prevMax.UTC().Format(time.RFC3339Nano))
	}
	if w.longLived > 0 && w.reqs > 0 {
		pw.SetKeyValueMetadata(schema.MetaRequestsFirst, w.reqFirst.UTC().Format(time.RFC3339Nano))
		pw.SetKeyValueMetadata(schema.MetaRequestsLast, w.reqLast.UTC().Format(time.RFC3339Nano))
	}
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
