package eventlog

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/surge-replay/surge/schema"
)

// Range selects events whose time t satisfies From <= t < To. A zero bound is
// open; the zero Range selects everything.
type Range struct {
	From, To time.Time
}

func (r Range) contains(t time.Time) bool {
	return (r.From.IsZero() || !t.Before(r.From)) && (r.To.IsZero() || t.Before(r.To))
}

// overlaps reports whether any time in [lo, hi] is in r.
func (r Range) overlaps(lo, hi time.Time) bool {
	return (r.From.IsZero() || !hi.Before(r.From)) && (r.To.IsZero() || lo.Before(r.To))
}

// FileInfo describes one event file from its footer, without reading events.
type FileInfo struct {
	Path      string
	Kind      schema.Kind
	Version   string
	Source    string
	Events    int64
	RowGroups int
	First     time.Time // zero for an empty file
	Last      time.Time
	// RequestsFirst and RequestsLast are First and Last but for the
	// long-lived connections (schema.Exchange.LongLived) of the file: the
	// range of its requests, which one WebSocket opened hours earlier does
	// not stretch. They equal First and Last when there are none, or the
	// file is older than these keys, or holds only such connections.
	RequestsFirst, RequestsLast time.Time
	Size                        int64
	Metadata                    map[string]string // all key/value metadata
}

// logFile is an open event file.
type logFile struct {
	FileInfo
	f       *os.File
	file    *parquet.File
	timeCol int
}

// Stat opens path, checks it is a readable surge event file and returns its
// footer facts.
func Stat(path string) (FileInfo, error) {
	lf, err := openPath(path)
	if err != nil {
		return FileInfo{}, err
	}
	lf.f.Close()
	return lf.FileInfo, nil
}

func openPath(path string) (*logFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	lf, err := openFile(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return lf, nil
}

// openFile reads the footer of f (named path in errors) and checks the schema
// version and that it has a time column.
func openFile(path string, f *os.File) (lf *logFile, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	defer func() {
		// parquet-go can panic on a corrupt footer; a bad file is an error.
		if p := recover(); p != nil {
			lf, err = nil, fmt.Errorf("eventlog: %s: corrupt Parquet footer: %v", path, p)
		}
	}()
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return nil, fmt.Errorf("eventlog: %s (%d bytes): not a readable Parquet file (truncated or corrupt?): %w", path, st.Size(), err)
	}
	lf = &logFile{f: f, file: pf}
	lf.Path, lf.Size = path, st.Size()
	lf.RowGroups = len(pf.RowGroups())
	lf.Events = pf.NumRows()
	lf.Metadata = map[string]string{}
	for _, kv := range pf.Metadata().KeyValueMetadata {
		lf.Metadata[kv.Key] = kv.Value
	}
	lf.Version = lf.Metadata[schema.MetaVersion]
	if err := schema.CheckVersion(lf.Version); err != nil {
		return nil, fmt.Errorf("eventlog: %s: %w", path, err)
	}
	lf.Kind = schema.Kind(lf.Metadata[schema.MetaKind])
	lf.Source = lf.Metadata[schema.MetaSource]
	for key, t := range map[string]*time.Time{schema.MetaFirst: &lf.First, schema.MetaLast: &lf.Last,
		schema.MetaRequestsFirst: &lf.RequestsFirst, schema.MetaRequestsLast: &lf.RequestsLast} {
		if v, ok := lf.Metadata[key]; ok {
			if *t, err = time.Parse(time.RFC3339Nano, v); err != nil {
				return nil, fmt.Errorf("eventlog: %s: metadata %s: %w", path, key, err)
			}
		}
	}
	if lf.RequestsFirst.IsZero() || lf.RequestsLast.IsZero() {
		lf.RequestsFirst, lf.RequestsLast = lf.First, lf.Last
	}
	timeName := schema.TimeColumn(lf.Kind)
	col, ok := pf.Schema().Lookup(timeName)
	if !ok {
		return nil, fmt.Errorf("eventlog: %s: no %s column", path, timeName)
	}
	lf.timeCol = col.ColumnIndex
	return lf, nil
}

// groupBounds returns the time range of row group i from its statistics, and
// false when the statistics are missing.
func (lf *logFile) groupBounds(i int) (lo, hi time.Time, ok bool) {
	cols := lf.file.Metadata().RowGroups[i].Columns
	if lf.timeCol >= len(cols) {
		return lo, hi, false
	}
	st := cols[lf.timeCol].MetaData.Statistics
	min, max := st.MinValue, st.MaxValue
	if len(min) != 8 || len(max) != 8 {
		min, max = st.Min, st.Max
	}
	if len(min) != 8 || len(max) != 8 {
		return lo, hi, false
	}
	lo = time.Unix(0, int64(binary.LittleEndian.Uint64(min))).UTC()
	hi = time.Unix(0, int64(binary.LittleEndian.Uint64(max))).UTC()
	return lo, hi, true
}

// groupsIn returns the row groups of lf that may hold events in r.
func (lf *logFile) groupsIn(r Range) []int {
	var groups []int
	for i := range lf.RowGroups {
		if lo, hi, ok := lf.groupBounds(i); ok && !r.overlaps(lo, hi) {
			continue
		}
		groups = append(groups, i)
	}
	return groups
}

// Files expands paths into the event files they name: a file is taken as is;
// a directory is walked for *.parquet files (hidden and temporary files,
// "_" directories such as _frames, and *.frames.parquet skipped), and hive partitions (dt=YYYY-MM-DD/hour=HH) wholly outside r are
// pruned without being opened. The result is sorted within each directory.
func Files(paths []string, r Range) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("eventlog: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if path != p && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if lo, hi, ok := partitionBounds(path); ok && !r.overlaps(lo, hi) {
					return filepath.SkipDir
				}
				return nil
			}
			// A capture's WebSocket frames beside it (FramesPath) are a
			// log of their own, not more of its events.
			if strings.HasSuffix(name, ".parquet") && !strings.HasSuffix(name, FramesSuffix) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("eventlog: %w", err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("eventlog: %s: no .parquet files", p)
		}
		slices.Sort(found)
		files = append(files, found...)
	}
	return files, nil
}

// partitionBounds returns the time span of a hive partition directory
// (.../dt=2026-11-21 or .../dt=2026-11-21/hour=20), inclusive.
func partitionBounds(dir string) (lo, hi time.Time, ok bool) {
	base := filepath.Base(dir)
	if h, found := strings.CutPrefix(base, "hour="); found {
		day, found := strings.CutPrefix(filepath.Base(filepath.Dir(dir)), "dt=")
		if !found {
			return lo, hi, false
		}
		d, err := time.Parse(time.DateOnly, day)
		hour, herr := strconv.Atoi(h)
		if err != nil || herr != nil || hour < 0 || hour > 23 {
			return lo, hi, false
		}
		lo = d.Add(time.Duration(hour) * time.Hour)
		return lo, lo.Add(time.Hour - 1), true
	}
	if day, found := strings.CutPrefix(base, "dt="); found {
		d, err := time.Parse(time.DateOnly, day)
		if err != nil {
			return lo, hi, false
		}
		return d, d.Add(24*time.Hour - 1), true
	}
	return lo, hi, false
}

// checkColumns reports a column of T that lf lacks or stores with another
// type, naming it. A missing optional column is not an error: files of an
// earlier minor schema version lack the optional columns added since
// (connection_ns, 1.1), and read as NULL.
func checkColumns[T any](lf *logFile) error {
	var zero T
	want := parquet.SchemaOf(zero)
	have := lf.file.Schema()
	for _, path := range want.Columns() {
		w, _ := want.Lookup(path...)
		h, ok := have.Lookup(path...)
		name := strings.Join(path, ".")
		if !ok && w.Node.Optional() {
			continue // a column added in a later minor version: read as NULL
		}
		if !ok {
			return fmt.Errorf("eventlog: %s: missing column %s", lf.Path, name)
		}
		if w.Node.Type().Kind() != h.Node.Type().Kind() {
			return fmt.Errorf("eventlog: %s: column %s is %s, want %s", lf.Path, name, h.Node.Type(), w.Node.Type())
		}
	}
	return nil
}
