package eventlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Defaults of RollingConfig.
const (
	DefaultRollAge   = 5 * time.Minute
	DefaultRollBytes = 128 << 20
)

// RollingConfig configures a RollingWriter. The zero value works.
type RollingConfig struct {
	WriterConfig
	// MaxAge is how long a part file stays open: Due reports a roll after
	// it. Zero means DefaultRollAge.
	MaxAge time.Duration
	// MaxBytes is the estimated size of the events (Size) after which
	// Due reports a roll. Zero means DefaultRollBytes.
	MaxBytes int64
	// Size estimates an event's bytes; nil counts 256 bytes an event.
	Size func(e any) int
}

// RollingWriter writes a long-running stream of events (a capture tap's)
// into a hive-partitioned directory that readers may use while it grows:
//
//	DIR/dt=2026-12-04/hour=13/part-20261204T130500.123456789Z-00003.parquet
//
// Each part is a Writer's file: written under a hidden temporary name and
// renamed into place, complete, when it is rolled. A part holds one UTC
// hour; Roll closes every open part (the caller rolls when Due says so, by
// time or by size). Beside each open part a hidden write-ahead segment
// (rolling_wal.go) holds its events, handed to the kernel at each Sync.
// After a crash (SIGKILL), only hidden files are incomplete: OpenRolling
// replays each segment into its part, complete (Recovered), and removes the
// temporary files, so no partial file is ever in the dataset and a killed
// process loses only the events added since its last Sync. DatasetMeta
// (_surge.json) is rewritten atomically by WriteMeta.
//
// Unlike DatasetWriter, a RollingWriter adds to an existing directory. It
// is not safe for concurrent use.
type RollingWriter[T any, PT event[T]] struct {
	dir    string
	cfg    RollingConfig
	open   map[time.Time]*rollPart[T, PT]
	opened time.Time // when the oldest open part was started
	bytes  int64     // estimated bytes in the open parts
	seq    int
	lost   int64 // events in parts that failed
	meta   map[string]string
	rec    Recovery
}

// rollPart is an open part and its write-ahead segment.
type rollPart[T any, PT event[T]] struct {
	w   *Writer[T, PT]
	wal *wal
}

// OpenRolling starts a RollingWriter in dir (made if missing). It first
// replays the write-ahead segments a crashed writer left there into
// complete parts (Recovered says what), then removes the crashed writer's
// temporary files and returns their paths. A segment that cannot be
// replayed is an error, and is kept.
func OpenRolling[T any, PT event[T]](dir string, cfg RollingConfig) (*RollingWriter[T, PT], []string, error) {
	if err := os.MkdirAll(dir, DirPerm()); err != nil {
		return nil, nil, fmt.Errorf("eventlog: %w", err)
	}
	meta, err := ReadDatasetMeta(dir)
	if err != nil {
		return nil, nil, err
	}
	if meta == nil {
		meta = map[string]string{}
	}
	maps.Copy(meta, cfg.Metadata)
	wcfg := cfg.WriterConfig
	wcfg.Metadata = maps.Clone(meta)
	rec, err := recoverWAL[T, PT](dir, wcfg)
	if err != nil {
		return nil, nil, err
	}
	removed, err := RemovePartial(dir)
	if err != nil {
		return nil, removed, err
	}
	w := &RollingWriter[T, PT]{dir: dir, cfg: cfg, open: map[time.Time]*rollPart[T, PT]{}, meta: meta, rec: rec}
	return w, removed, nil
}

// Recovered returns what OpenRolling recovered from a crashed writer's
// write-ahead segments.
func (w *RollingWriter[T, PT]) Recovered() Recovery { return w.rec }

// RemovePartial removes the temporary files of writers that did not finish
// (hidden names with ".tmp-") under dir, and returns their paths.
func RemovePartial(dir string) ([]string, error) {
	var removed []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if !d.IsDir() && strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-") {
			if err := os.Remove(path); err != nil {
				return err
			}
			removed = append(removed, path)
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("eventlog: recover %s: %w", dir, err)
	}
	return removed, nil
}

// Add writes one event into the open part of its hour. When the part
// cannot be written, it is discarded (its events counted by Lost) and the
// error returned; the next Add starts a new part.
func (w *RollingWriter[T, PT]) Add(e *T) error {
	hour := PT(e).EventTime().UTC().Truncate(time.Hour)
	p, err := w.part(hour)
	if err != nil {
		return err
	}
	err = p.wal.add(e)
	if err == nil {
		err = p.w.Add(e)
	}
	if err != nil {
		w.lost += p.w.Count()
		p.w.Abort()
		p.wal.remove()
		delete(w.open, hour)
		return err
	}
	if w.cfg.Size != nil {
		w.bytes += int64(w.cfg.Size(e))
	} else {
		w.bytes += 256
	}
	return nil
}

func (w *RollingWriter[T, PT]) part(hour time.Time) (*rollPart[T, PT], error) {
	if p, ok := w.open[hour]; ok {
		return p, nil
	}
	if len(w.open) >= 2 {
		// A third hour: close the earliest (a late event of an hour
		// already closed starts a part of its own).
		earliest := slices.MinFunc(slices.Collect(maps.Keys(w.open)), time.Time.Compare)
		if err := w.closePart(earliest); err != nil {
			return nil, err
		}
	}
	now := time.Now().UTC()
	name := fmt.Sprintf("part-%s-%05d.parquet", now.Format("20060102T150405.000000000Z"), w.seq)
	cfg := w.cfg.WriterConfig
	cfg.Metadata = maps.Clone(w.meta)
	path := filepath.Join(w.dir, PartitionPath(hour), name)
	pw, err := Create[T, PT](path, cfg)
	if err != nil {
		return nil, err
	}
	l, err := createWAL(path)
	if err != nil {
		pw.Abort()
		return nil, err
	}
	p := &rollPart[T, PT]{w: pw, wal: l}
	w.seq++
	if len(w.open) == 0 {
		w.opened = time.Now()
	}
	w.open[hour] = p
	return p, nil
}

func (w *RollingWriter[T, PT]) closePart(hour time.Time) error {
	p := w.open[hour]
	delete(w.open, hour)
	n := p.w.Count()
	err := p.w.Close()
	// The part is in place (or failed, its events counted lost): its
	// segment has done its work either way.
	p.wal.remove()
	if err != nil {
		w.lost += n
		return err
	}
	return nil
}

// Sync hands the open parts' write-ahead records to the kernel: events
// added before a Sync survive the process being killed (OpenRolling
// recovers them). A segment that cannot be written discards its part, like
// a failed Add.
func (w *RollingWriter[T, PT]) Sync() error {
	var errs []error
	for hour, p := range w.open {
		if err := p.wal.sync(); err != nil {
			w.lost += p.w.Count()
			p.w.Abort()
			p.wal.remove()
			delete(w.open, hour)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Due reports whether the open parts should be rolled: they are older than
// MaxAge or hold more than MaxBytes.
func (w *RollingWriter[T, PT]) Due(now time.Time) bool {
	if len(w.open) == 0 {
		return false
	}
	maxAge, maxBytes := w.cfg.MaxAge, w.cfg.MaxBytes
	if maxAge <= 0 {
		maxAge = DefaultRollAge
	}
	if maxBytes <= 0 {
		maxBytes = DefaultRollBytes
	}
	return now.Sub(w.opened) >= maxAge || w.bytes >= maxBytes
}

// Roll closes every open part, putting it in place. It returns the first
// error; the parts that failed are discarded and counted by Lost.
func (w *RollingWriter[T, PT]) Roll() error {
	var errs []error
	for _, hour := range slices.SortedFunc(maps.Keys(w.open), time.Time.Compare) {
		errs = append(errs, w.closePart(hour))
	}
	w.bytes = 0
	return errors.Join(errs...)
}

// Lost returns how many events were in parts that could not be written.
func (w *RollingWriter[T, PT]) Lost() int64 { return w.lost }

// SetMetadata sets a key/value metadata entry: in the open parts, in parts
// started later, and in DatasetMeta at the next WriteMeta.
func (w *RollingWriter[T, PT]) SetMetadata(key, value string) {
	w.meta[key] = value
	for _, p := range w.open {
		p.w.SetMetadata(key, value)
	}
}

// WriteMeta writes DatasetMeta with the metadata set so far, atomically.
func (w *RollingWriter[T, PT]) WriteMeta() error {
	b, err := json.MarshalIndent(w.meta, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(w.dir, DatasetMeta)
	tmp, err := createTemp(path)
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Chmod(FilePerm())
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("eventlog: write %s: %w", path, err)
	}
	return nil
}

// Close rolls the open parts and writes DatasetMeta.
func (w *RollingWriter[T, PT]) Close() error {
	return errors.Join(w.Roll(), w.WriteMeta())
}

// Abort discards the open parts and their write-ahead segments, writing
// nothing (no DatasetMeta). Events added to them are lost.
func (w *RollingWriter[T, PT]) Abort() {
	for hour, p := range w.open {
		p.w.Abort()
		p.wal.remove()
		delete(w.open, hour)
	}
	w.bytes = 0
}
