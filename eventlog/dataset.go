package eventlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DatasetMeta is the name of the JSON file, at the root of a dataset
// directory, that holds the dataset's key/value metadata (the same keys a
// single file carries in its footer). The leading underscore makes DuckDB,
// Spark and Files skip it.
const DatasetMeta = "_surge.json"

// maxOpenParts is how many hour partitions a DatasetWriter keeps open at once.
// Input in time order needs one; a late event for an hour already closed
// starts a new part file in that hour.
const maxOpenParts = 4

// DatasetWriter writes events into a hive-partitioned directory:
//
//	DIR/dt=2026-11-21/hour=20/part-00000.parquet
//
// by the UTC hour of each event, so DuckDB (read_parquet('DIR/**/*.parquet',
// hive_partitioning = true)) and Spark read it as one partitioned dataset and
// Files prunes hours outside a Range without opening them. Each part is
// written by a Writer (sorted, atomic). The directory is staged beside DIR
// and renamed into place by Close; DIR must not exist or be empty.
//
// A DatasetWriter is not safe for concurrent use.
type DatasetWriter[T any, PT event[T]] struct {
	dir, stage string
	cfg        WriterConfig
	open       map[time.Time]*Writer[T, PT]
	parts      map[time.Time]int // parts started per hour
	done       bool
}

// CreateDataset starts a DatasetWriter for dir.
func CreateDataset[T any, PT event[T]](dir string, cfg WriterConfig) (*DatasetWriter[T, PT], error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 && !cfg.Replace {
		return nil, fmt.Errorf("eventlog: %s exists and is not empty; remove it or choose another output", dir)
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, DirPerm()); err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	// MkdirTemp makes the directory private; the result is an ordinary one.
	if err := os.Chmod(stage, DirPerm()); err != nil {
		os.Remove(stage)
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	return &DatasetWriter[T, PT]{
		dir: dir, stage: stage, cfg: cfg,
		open:  map[time.Time]*Writer[T, PT]{},
		parts: map[time.Time]int{},
	}, nil
}

// Write routes each event to the part file of its hour.
func (d *DatasetWriter[T, PT]) Write(events ...T) error {
	for i := range events {
		if err := d.Add(&events[i]); err != nil {
			return err
		}
	}
	return nil
}

// Add writes a copy of one event, like Write.
func (d *DatasetWriter[T, PT]) Add(e *T) error {
	if d.done {
		return errors.New("eventlog: write after close")
	}
	w, err := d.part(PT(e).EventTime().UTC().Truncate(time.Hour))
	if err == nil {
		err = w.Add(e)
	}
	if err != nil {
		d.Abort()
	}
	return err
}

// part returns the open writer of hour, starting one (and closing the
// earliest open hour when too many are open).
func (d *DatasetWriter[T, PT]) part(hour time.Time) (*Writer[T, PT], error) {
	if w, ok := d.open[hour]; ok {
		return w, nil
	}
	if len(d.open) >= maxOpenParts {
		hours := make([]time.Time, 0, len(d.open))
		for h := range d.open {
			hours = append(hours, h)
		}
		earliest := slices.MinFunc(hours, time.Time.Compare)
		if err := d.open[earliest].Close(); err != nil {
			return nil, err
		}
		delete(d.open, earliest)
	}
	name := filepath.Join(d.stage, PartitionPath(hour), fmt.Sprintf("part-%05d.parquet", d.parts[hour]))
	w, err := Create[T, PT](name, d.cfg)
	if err != nil {
		return nil, err
	}
	d.parts[hour]++
	d.open[hour] = w
	return w, nil
}

// PartitionPath returns the hive partition directory of an hour,
// "dt=2026-11-21/hour=20".
func PartitionPath(hour time.Time) string {
	hour = hour.UTC()
	return fmt.Sprintf("dt=%s/hour=%02d", hour.Format(time.DateOnly), hour.Hour())
}

// SetMetadata sets a key/value metadata entry of the dataset: in every part
// still open, in parts started later, and in DatasetMeta.
func (d *DatasetWriter[T, PT]) SetMetadata(key, value string) {
	if d.cfg.Metadata == nil {
		d.cfg.Metadata = map[string]string{}
	}
	d.cfg.Metadata[key] = value
	for _, w := range d.open {
		w.SetMetadata(key, value)
	}
}

// Close closes every part, writes DatasetMeta and renames the staged
// directory to its path. After an error nothing is left at the path.
func (d *DatasetWriter[T, PT]) Close() error {
	if d.done {
		return nil
	}
	for h, w := range d.open {
		if err := w.Close(); err != nil {
			d.Abort()
			return err
		}
		delete(d.open, h)
	}
	meta, err := json.MarshalIndent(d.cfg.Metadata, "", "  ")
	if err == nil {
		err = os.WriteFile(filepath.Join(d.stage, DatasetMeta), append(meta, '\n'), FilePerm())
	}
	var old string // the replaced directory, moved aside (cfg.Replace)
	if err == nil {
		os.Remove(d.dir) // an empty directory may be there; a non-empty one makes Rename fail
		if _, serr := os.Stat(d.dir); serr == nil && d.cfg.Replace {
			old = d.stage + ".old"
			err = os.Rename(d.dir, old)
		}
	}
	if err == nil {
		if err = os.Rename(d.stage, d.dir); err != nil && old != "" {
			os.Rename(old, d.dir) // put the old one back
		}
	}
	if err != nil {
		d.Abort()
		return fmt.Errorf("eventlog: close %s: %w", d.dir, err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	d.done = true
	return nil
}

// Abort discards everything written. It is safe to call after Close and more
// than once.
func (d *DatasetWriter[T, PT]) Abort() {
	if d.done {
		return
	}
	d.done = true
	for _, w := range d.open {
		w.Abort()
	}
	os.RemoveAll(d.stage)
}

// ReadDatasetMeta returns the metadata of the dataset at dir, or nil when dir
// has no DatasetMeta.
func ReadDatasetMeta(dir string) (map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, DatasetMeta))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("eventlog: %s: %w", filepath.Join(dir, DatasetMeta), err)
	}
	return m, nil
}

// Sink is where events are written: a single file (Writer) or a
// hive-partitioned directory (DatasetWriter).
type Sink[T any] interface {
	// Write writes events, taking ownership of their slices.
	Write(events ...T) error
	// Add writes a copy of one event (no slice to allocate).
	Add(e *T) error
	// SetMetadata sets a key/value metadata entry.
	SetMetadata(key, value string)
	// Close finishes the output and puts it in place.
	Close() error
	// Abort discards the output; safe after Close and more than once.
	Abort()
}

// CreateSink starts a Sink for path: a path ending in ".parquet" is one file,
// any other path a hive-partitioned directory.
func CreateSink[T any, PT event[T]](path string, cfg WriterConfig) (Sink[T], error) {
	if strings.HasSuffix(path, ".parquet") {
		return Create[T, PT](path, cfg)
	}
	return CreateDataset[T, PT](path, cfg)
}
