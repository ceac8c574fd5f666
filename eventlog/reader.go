package eventlog

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/surge-replay/surge/schema"
)

// Stats counts what a Reader did, for tests and for tuning.
type Stats struct {
	Files         int   // files opened
	RowGroups     int   // row groups in the opened files
	RowGroupsRead int   // row groups decoded (the rest were pruned by statistics)
	RowsDecoded   int64 // rows decoded, before trimming to the range
}

// Reader yields the events of many files in time order, in memory bounded by
// one batch of rows per file being read.
//
// T is the type events are decoded into: an event type (schema.Exchange,
// schema.Frame, schema.ViewingEvent) or a projection of one such as
// schema.RequestLine, in which case only the projection's columns are read.
// Row groups wholly outside the Range are skipped by their statistics.
//
// A Reader is not safe for concurrent use.
//
//	r, err := eventlog.Open[schema.RequestLine]([]string{"capture/"}, eventlog.Range{})
//	...
//	defer r.Close()
//	for {
//		ev, err := r.Next()
//		if err == io.EOF { break }
//		...
//	}
type Reader[T any, PT event[T]] struct {
	files   []*logFile
	cursors []*cursor[T, PT]
	m       *merger[T, PT]
	files0  Stats
}

// Open opens the event files named by paths (files or directories, see Files)
// for reading the events in r. Every file must hold events of T's kind with a
// readable schema version and T's columns.
func Open[T any, PT event[T]](paths []string, r Range) (*Reader[T, PT], error) {
	var zero T
	kind := schema.KindOf(zero)
	if kind == "" {
		return nil, fmt.Errorf("eventlog: %T is not an event type", zero)
	}
	names, err := Files(paths, r)
	if err != nil {
		return nil, err
	}
	rd := &Reader[T, PT]{}
	for _, name := range names {
		lf, err := openPath(name)
		if err != nil {
			rd.Close()
			return nil, err
		}
		rd.files = append(rd.files, lf)
		if lf.Kind != kind {
			rd.Close()
			return nil, fmt.Errorf("eventlog: %s holds %q events, not %q", name, lf.Kind, kind)
		}
		if err := checkColumns[T](lf); err != nil {
			rd.Close()
			return nil, err
		}
		rd.files0.Files++
		rd.files0.RowGroups += lf.RowGroups
		if groups := lf.groupsIn(r); len(groups) > 0 {
			rd.cursors = append(rd.cursors, newCursor[T, PT](lf, groups, r))
		}
	}
	rd.m = newMerger(rd.cursors)
	return rd, nil
}

// Next returns the next event in time order, and nil, io.EOF at the end. The
// event is valid until the next call.
func (r *Reader[T, PT]) Next() (*T, error) {
	ev, err := r.m.next()
	if err != nil {
		return nil, err
	}
	if ev == nil {
		return nil, io.EOF
	}
	return ev, nil
}

// Read copies up to len(dst) next events into dst. It returns io.EOF with the
// last events or after them.
func (r *Reader[T, PT]) Read(dst []T) (int, error) {
	for i := range dst {
		ev, err := r.Next()
		if err != nil {
			return i, err
		}
		dst[i] = *ev
	}
	return len(dst), nil
}

// Files describes the files the Reader opened.
func (r *Reader[T, PT]) Files() []FileInfo {
	infos := make([]FileInfo, len(r.files))
	for i, lf := range r.files {
		infos[i] = lf.FileInfo
	}
	return infos
}

// Stats returns what the Reader has done so far.
func (r *Reader[T, PT]) Stats() Stats {
	s := r.files0
	for _, c := range r.cursors {
		s.RowGroupsRead += c.stats.RowGroupsRead
		s.RowsDecoded += c.stats.RowsDecoded
	}
	return s
}

// Close closes the files. It is safe to call more than once.
func (r *Reader[T, PT]) Close() error {
	var errs []error
	for _, lf := range r.files {
		errs = append(errs, lf.f.Close())
	}
	r.files = nil
	for _, err := range errs {
		if err != nil && !errors.Is(err, os.ErrClosed) {
			return err
		}
	}
	return nil
}
