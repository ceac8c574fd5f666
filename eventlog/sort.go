package eventlog

import (
	"cmp"
	"fmt"
	"os"
	"slices"

	"github.com/parquet-go/parquet-go"
)

// mergeFanIn is how many sorted runs one merge pass reads at once; it bounds
// the memory of a merge (a batch and a page per column for each run).
const mergeFanIn = 16

// run is a sorted sequence of events: row groups of one file, in order.
type run struct {
	lf     *logFile
	groups []int
}

// resort rewrites the temporary file, whose row groups are each sorted, as
// one sorted file: merge passes of at most mergeFanIn runs through
// intermediate files until one pass writes the result.
func (w *Writer[T, PT]) resort() error {
	src, err := openFile(w.tmp.Name(), w.tmp)
	if err != nil {
		return err
	}
	var runs []run
	for i := range src.RowGroups {
		runs = append(runs, run{src, []int{i}})
	}
	var temps []*os.File // intermediate files, removed at the end
	defer func() {
		for _, f := range temps {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	for {
		var next []run
		last := len(runs) <= mergeFanIn
		for i := 0; i < len(runs); i += mergeFanIn {
			out, err := createTemp(w.path)
			if err != nil {
				return err
			}
			temps = append(temps, out)
			if err := w.mergeRuns(runs[i:min(i+mergeFanIn, len(runs))], out); err != nil {
				return err
			}
			if last {
				break
			}
			lf, err := openFile(out.Name(), out)
			if err != nil {
				return err
			}
			next = append(next, run{lf, seq(lf.RowGroups)})
		}
		if last {
			break
		}
		runs = next
	}
	// The last intermediate file is the result; it replaces the original.
	result := temps[len(temps)-1]
	temps = append(temps[:len(temps)-1], w.tmp)
	w.tmp = result
	return nil
}

// mergeRuns writes the events of runs, merged in time order, to out, with the
// file's metadata.
func (w *Writer[T, PT]) mergeRuns(runs []run, out *os.File) error {
	cursors := make([]*cursor[T, PT], len(runs))
	for i, r := range runs {
		cursors[i] = newCursor[T, PT](r.lf, r.groups, Range{})
	}
	pw := newParquetWriter[T](out, w.kind, &w.cfg)
	n, err := copyMerged(pw, newMerger(cursors), w.cfg.rowGroupRows())
	if err != nil {
		return err
	}
	var want int64
	for _, r := range runs {
		for _, g := range r.groups {
			want += r.lf.file.RowGroups()[g].NumRows()
		}
	}
	if n != want {
		return fmt.Errorf("merged %d events of %d", n, want)
	}
	w.setRange(pw)
	return pw.Close()
}

// copyMerged writes every event of m to pw, rows events per row group.
func copyMerged[T any, PT event[T]](pw *parquet.GenericWriter[T], m *merger[T, PT], rows int) (int64, error) {
	batch := make([]T, 0, min(rows, chunkRows))
	var n, inGroup int64
	write := func() error {
		if _, err := pw.Write(batch); err != nil {
			return err
		}
		n, inGroup = n+int64(len(batch)), inGroup+int64(len(batch))
		clear(batch)
		batch = batch[:0]
		if inGroup >= int64(rows) {
			inGroup = 0
			return pw.Flush()
		}
		return nil
	}
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
			if err := write(); err != nil {
				return n, err
			}
		}
	}
	return n, write()
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

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
