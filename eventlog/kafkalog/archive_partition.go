package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// flush is what one partition has consumed since its last flush: offsets
// from..to and the hour files their events go to.
type flush struct {
	partition int
	from, to  int64 // from < 0: nothing consumed
	events    int
	bytes     int64
	hours     map[time.Time]*hourFile
}

// hourFile is one hour's file of a flush, being written under its staged
// name.
type hourFile struct {
	hour   time.Time
	dir    string // DIR/dt=…/hour=…
	staged string
	w      *eventlog.Writer[schema.Exchange, *schema.Exchange]
}

func (f *flush) reset() {
	f.from, f.to, f.events, f.bytes = -1, -1, 0, 0
	clear(f.hours)
}

// abort discards the files being written.
func (f *flush) abort() {
	for _, h := range f.hours {
		h.w.Abort()
	}
	f.reset()
}

// consume archives partition p from offset start until run is cancelled or
// the generation (gctx) ends, then flushes and commits what it consumed.
func (a *Archiver) consume(run, gctx context.Context, gen *kafka.Generation, p int, start int64) error {
	ctx, cancel := context.WithCancel(run)
	defer cancel()
	go func() {
		select {
		case <-gctx.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   a.cfg.Brokers,
		Topic:     a.cfg.Topic,
		Partition: p,
		// kafka-go's defaults (1 byte, 10 s wait) make tiny fetches and
		// long stalls; these keep record batches large (docs/KAFKA.md).
		MinBytes:       1 << 20,
		MaxBytes:       16 << 20,
		MaxWait:        50 * time.Millisecond,
		QueueCapacity:  1000,
		MaxAttempts:    5,
		ReadBackoffMax: time.Second,
	})
	defer r.Close()
	if err := r.SetOffset(start); err != nil {
		return fmt.Errorf("kafka archive: partition %d: seek to %d: %w", p, start, err)
	}
	f := &flush{partition: p, hours: map[time.Time]*hourFile{}}
	f.reset()
	// fetch carries the flush deadline while f holds records.
	fetch := deadline{parent: ctx, ctx: ctx}
	defer fetch.stop()
	var ev schema.Exchange
	for {
		m, err := r.FetchMessage(fetch.ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if fetch.ctx.Err() == nil {
				// kafka-go retries by itself; this only reports it.
				a.cfg.logf("kafka archive: partition %d: %v (retrying)", p, err)
				select {
				case <-time.After(100 * time.Millisecond):
				case <-fetch.ctx.Done():
				}
				continue
			}
			// The flush interval is up.
			fetch.stop()
			if err := a.flushAndCommit(gen, f); err != nil {
				return err
			}
			continue
		}
		if m.Offset <= f.to {
			a.skipped.Add(1) // re-delivered (a reconnect): already in f
			continue
		}
		a.consumed.Add(1)
		if f.from < 0 {
			fetch.start(a.cfg.flushInterval())
		}
		if err := Decode(m.Headers, m.Value, &ev); err != nil {
			rerr := &RecordError{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Err: err}
			a.bad.Add(1)
			if a.cfg.OnBadRecord != nil {
				a.cfg.OnBadRecord(rerr)
			}
			if a.cfg.Strict {
				// Archive what came before the bad record, then stop.
				if ferr := a.flushAndCommit(gen, f); ferr != nil {
					return ferr
				}
				return fmt.Errorf("kafka archive: %w", rerr)
			}
			f.take(&m)
			continue
		}
		if err := a.add(gen, f, &m, &ev); err != nil {
			f.abort()
			return err
		}
		if f.events >= a.cfg.flushEvents() || f.bytes >= a.cfg.flushBytes() {
			fetch.stop()
			if err := a.flushAndCommit(gen, f); err != nil {
				return err
			}
		}
	}
	// Stopping or rebalancing: what was consumed is written and committed
	// now. After a rebalance the commit may be refused; the file names keep
	// the offsets for whichever archiver owns the partition next.
	return a.flushAndCommit(gen, f)
}

// deadline is a context that ends at the flush deadline while one is set.
type deadline struct {
	parent, ctx context.Context
	cancel      context.CancelFunc
}

func (d *deadline) start(after time.Duration) {
	d.stop()
	d.ctx, d.cancel = context.WithTimeout(d.parent, after)
}

func (d *deadline) stop() {
	if d.cancel != nil {
		d.cancel()
		d.cancel = nil
	}
	d.ctx = d.parent
}

// take records that m's offset belongs to f.
func (f *flush) take(m *kafka.Message) {
	if f.from < 0 {
		f.from = m.Offset
	}
	f.to = m.Offset
	f.bytes += int64(len(m.Value))
}

// add writes ev (decoded from m) to the file of its hour, flushing first
// when f already spans maxFlushHours hours.
func (a *Archiver) add(gen *kafka.Generation, f *flush, m *kafka.Message, ev *schema.Exchange) error {
	hour := ev.Time.UTC().Truncate(time.Hour)
	h := f.hours[hour]
	if h == nil && len(f.hours) >= maxFlushHours {
		if err := a.flushAndCommit(gen, f); err != nil {
			return err
		}
	}
	f.take(m)
	if h == nil {
		var err error
		if h, err = a.openHour(f, hour, m, ev.Source); err != nil {
			return err
		}
	}
	f.events++
	if err := h.w.Add(ev); err != nil {
		return fmt.Errorf("kafka archive: %w", err)
	}
	return nil
}

// openHour starts the staged file of hour in f.
func (a *Archiver) openHour(f *flush, hour time.Time, m *kafka.Message, evSource string) (*hourFile, error) {
	dir := filepath.Join(a.cfg.Dir, eventlog.PartitionPath(hour))
	if err := a.dirs.ensure(dir); err != nil {
		return nil, fmt.Errorf("kafka archive: %w", err)
	}
	// The source: the surge-source header (JSON records), else the
	// event's own (binary records carry it in the value only).
	source := "kafka"
	if s, ok := header(m.Headers, HeaderSource); ok && len(s) > 0 {
		source = string(s)
	} else if evSource != "" {
		source = evSource
	}
	h := &hourFile{hour: hour, dir: dir, staged: filepath.Join(dir, stagedFileName(a.cfg.Topic, f.partition, f.from, len(f.hours)))}
	w, err := eventlog.Create[schema.Exchange](h.staged, eventlog.WriterConfig{
		Source:       source,
		RowGroupRows: a.cfg.rowGroupRows(),
		Metadata: map[string]string{
			MetaTopic:     a.cfg.Topic,
			MetaPartition: strconv.Itoa(f.partition),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("kafka archive: %w", err)
	}
	h.w = w
	f.hours[hour] = h
	return h, nil
}

// Key/value metadata of an archive file.
const (
	MetaTopic     = "kafka.topic"     // the topic the events were read from
	MetaPartition = "kafka.partition" // its partition
	MetaOffsets   = "kafka.offsets"   // "FROM-TO": the offsets of the flush (inclusive), events of other hours included
)

// flushAndCommit makes f durable and commits the offset after it.
func (a *Archiver) flushAndCommit(gen *kafka.Generation, f *flush) error {
	if f.from < 0 {
		return nil
	}
	next, events, files := f.to+1, f.events, len(f.hours)
	from, to := f.from, f.to
	if err := a.writeFlush(f); err != nil {
		return err
	}
	a.events.Add(int64(events))
	a.files.Add(int64(files))
	a.flushes.Add(1)
	committed := a.commit(gen, map[int]int64{f.partition: next})
	a.cfg.logf("kafka archive: partition %d: offsets %d..%d: %d events in %d files (committed: %t)", f.partition, from, to, events, files, committed)
	return nil
}

// writeFlush closes f's files (each fsynced), renames them to their final
// names in hour order, fsyncs their directories and resets f. On error
// nothing of f is left under a final name but what a restart recognises as
// an incomplete flush and removes.
func (a *Archiver) writeFlush(f *flush) error {
	defer f.reset()
	hours := make([]time.Time, 0, len(f.hours))
	for hr := range f.hours {
		hours = append(hours, hr)
	}
	slices.SortFunc(hours, time.Time.Compare)
	for _, hr := range hours {
		h := f.hours[hr]
		h.w.SetMetadata(MetaOffsets, fmt.Sprintf("%d-%d", f.from, f.to))
		if err := h.w.Close(); err != nil {
			err = errors.Join(fmt.Errorf("kafka archive: %w", err), removeStaged(f))
			f.abort()
			return err
		}
	}
	dirs := map[string]bool{}
	for i, hr := range hours {
		h := f.hours[hr]
		final := filepath.Join(h.dir, fileName(a.cfg.Topic, f.partition, f.from, f.to, i+1, len(hours)))
		if err := os.Rename(h.staged, final); err != nil {
			return errors.Join(fmt.Errorf("kafka archive: %w", err), removeStaged(f))
		}
		dirs[h.dir] = true
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return fmt.Errorf("kafka archive: %w", err)
		}
	}
	return nil
}

// removeStaged removes the staged files of f that were not renamed.
func removeStaged(f *flush) error {
	var paths []string
	for _, h := range f.hours {
		paths = append(paths, h.staged)
	}
	return removeFiles(paths)
}
