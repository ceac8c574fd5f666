package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// Defaults of an ArchiveConfig.
const (
	DefaultFlushInterval = 30 * time.Second
	DefaultFlushEvents   = 1_000_000
	DefaultFlushBytes    = 256 << 20
	// DefaultArchiveRowGroupRows is the row group size of archive files:
	// every partition being archived holds one open row group per hour in
	// memory, so they are smaller than eventlog's default.
	DefaultArchiveRowGroupRows = 32 << 10
)

// maxFlushHours is how many hour files one flush may hold open; an event of
// a further hour flushes first.
const maxFlushHours = 8

// ArchiveConfig configures an Archiver. Brokers, Topic and Dir are
// required; the zero value of every other field works.
type ArchiveConfig struct {
	Brokers []string // bootstrap HOST:PORT list
	Topic   string
	// Dir is the archive directory (hive layout dt=YYYY-MM-DD/hour=HH). It
	// is created when missing; files already there are kept and their names
	// say which offsets are archived.
	Dir string
	// Group is the consumer group id. Empty means "surge-archive-" + Topic.
	Group string
	// FlushInterval is the longest a consumed record waits before its file
	// is written and its offset committed. Zero means
	// DefaultFlushInterval.
	FlushInterval time.Duration
	// FlushEvents and FlushBytes (of record values) bound one flush of one
	// partition. Zero means DefaultFlushEvents and DefaultFlushBytes.
	FlushEvents int
	FlushBytes  int64
	// RowGroupRows is the row group size of the files. Zero means
	// DefaultArchiveRowGroupRows.
	RowGroupRows int
	// SessionTimeout is the consumer group session timeout: how long a dead
	// archiver keeps its partitions. Zero means 10 s (the broker's minimum
	// is 6 s by default).
	SessionTimeout time.Duration
	// Strict stops the archiver at the first record that does not decode
	// (after writing and committing the records before it). False skips and
	// counts such records.
	Strict bool
	// OnBadRecord, when set, is called (from any partition's goroutine) with
	// each record that does not decode.
	OnBadRecord func(*RecordError)
	// Logf, when set, receives progress and warnings, one line per call.
	Logf func(format string, args ...any)
}

func (c *ArchiveConfig) group() string {
	if c.Group == "" {
		return "surge-archive-" + c.Topic
	}
	return c.Group
}

func (c *ArchiveConfig) flushInterval() time.Duration {
	if c.FlushInterval <= 0 {
		return DefaultFlushInterval
	}
	return c.FlushInterval
}

func (c *ArchiveConfig) flushEvents() int {
	if c.FlushEvents <= 0 {
		return DefaultFlushEvents
	}
	return c.FlushEvents
}

func (c *ArchiveConfig) flushBytes() int64 {
	if c.FlushBytes <= 0 {
		return DefaultFlushBytes
	}
	return c.FlushBytes
}

func (c *ArchiveConfig) rowGroupRows() int {
	if c.RowGroupRows <= 0 {
		return DefaultArchiveRowGroupRows
	}
	return c.RowGroupRows
}

func (c *ArchiveConfig) sessionTimeout() time.Duration {
	if c.SessionTimeout <= 0 {
		return 10 * time.Second
	}
	return c.SessionTimeout
}

func (c *ArchiveConfig) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// RecordError is a record that does not decode: where it is and why.
type RecordError struct {
	Topic     string
	Partition int
	Offset    int64
	Err       error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("topic %s partition %d offset %d: %v", e.Topic, e.Partition, e.Offset, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// ArchiveStats counts what an Archiver did. Events and Files count only what
// is durably in the directory.
type ArchiveStats struct {
	Consumed   int64 // records read from the topic, archived or not yet
	Events     int64 // events written to renamed, fsynced files
	Files      int64 // files renamed into place
	Flushes    int64 // flushes (one partition's offset range each)
	BadRecords int64 // records that did not decode
	Skipped    int64 // records already archived (read again after a crash), not written
	Commits    int64 // offset commits the group coordinator accepted
}

// Archiver copies a topic into hourly Parquet files as a member of a
// consumer group, exactly once across crashes and restarts: a partition's
// records are written to files named by their offset range, the files and
// their directories are fsynced, and only then is the offset committed;
// after a crash, consuming resumes after the last archived offset found in
// the file names (see the naming comment in archive_files.go), so records
// archived but not committed are not written again.
//
// Each assigned partition is consumed by its own goroutine. Stats is safe
// to call concurrently with Run.
//
//	a, err := kafkalog.NewArchiver(kafkalog.ArchiveConfig{Brokers: b, Topic: "captures", Dir: "archive"})
//	...
//	err = a.Run(ctx) // until ctx is cancelled: flushes, commits, returns nil
type Archiver struct {
	cfg  ArchiveConfig
	dirs durableDirs

	consumed, events, files, flushes, bad, skipped, commits atomic.Int64

	commitMu sync.Mutex
}

// NewArchiver checks cfg and returns an Archiver. It does not connect.
func NewArchiver(cfg ArchiveConfig) (*Archiver, error) {
	var errs []error
	if len(cfg.Brokers) == 0 {
		errs = append(errs, errors.New("no brokers"))
	}
	if err := checkTopic(cfg.Topic); err != nil {
		errs = append(errs, err)
	}
	if cfg.Dir == "" {
		errs = append(errs, errors.New("no output directory"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("kafka archive: %w", err)
	}
	cfg.Dir = filepath.Clean(cfg.Dir)
	return &Archiver{cfg: cfg}, nil
}

// Stats returns the counts so far.
func (a *Archiver) Stats() ArchiveStats {
	return ArchiveStats{
		Consumed: a.consumed.Load(), Events: a.events.Load(), Files: a.files.Load(), Flushes: a.flushes.Load(),
		BadRecords: a.bad.Load(), Skipped: a.skipped.Load(), Commits: a.commits.Load(),
	}
}

// Run consumes until ctx is cancelled, then writes what each partition has
// consumed, commits it, leaves the group and returns nil. It returns an
// error when the topic does not exist or the brokers do not answer at the
// start, when a file cannot be written, when the directory holds offsets
// the topic does not have (a recreated topic) or has lost a file, or, with
// Strict, at a record that does not decode. Broker outages after the start
// are waited out.
func (a *Archiver) Run(ctx context.Context) error {
	if err := a.dirs.ensure(a.cfg.Dir); err != nil {
		return fmt.Errorf("kafka archive: %w", err)
	}
	// A group over a topic that does not exist just waits; say so instead.
	if _, err := Partitions(ctx, Addr{Brokers: a.cfg.Brokers, Topic: a.cfg.Topic}); err != nil {
		return fmt.Errorf("kafka archive: %w", err)
	}
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                a.cfg.group(),
		Brokers:           a.cfg.Brokers,
		Topics:            []string{a.cfg.Topic},
		StartOffset:       kafka.FirstOffset,
		HeartbeatInterval: time.Second,
		SessionTimeout:    a.cfg.sessionTimeout(),
		RebalanceTimeout:  a.cfg.sessionTimeout(),
		JoinGroupBackoff:  time.Second,
		Timeout:           10 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("kafka archive: %w", err)
	}
	defer group.Close()
	run, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	for run.Err() == nil {
		gen, err := group.Next(run)
		if err != nil {
			if run.Err() == nil {
				a.cfg.logf("kafka archive: group %s: %v (retrying)", a.cfg.group(), err)
			}
			continue
		}
		a.generation(run, fail, gen)
	}
	if err := context.Cause(run); !errors.Is(err, ctx.Err()) {
		return err
	}
	return nil
}

// generation runs one generation of the group: a goroutine per assigned
// partition, until the generation ends (a rebalance, a lost coordinator) or
// run is cancelled.
func (a *Archiver) generation(run context.Context, fail context.CancelCauseFunc, gen *kafka.Generation) {
	var parts []int
	committed := map[int]int64{}
	for _, pa := range gen.Assignments[a.cfg.Topic] {
		parts = append(parts, pa.ID)
		committed[pa.ID] = pa.Offset
	}
	starts, err := a.starts(run, gen, parts, committed)
	if err != nil {
		fail(err)
		return
	}
	a.cfg.logf("kafka archive: generation %d: partitions %v", gen.ID, parts)
	var wg sync.WaitGroup
	wg.Add(1 + len(parts))
	// A generation ends when any of its functions returns: this one makes
	// it end when run is cancelled even with no partition assigned.
	gen.Start(func(gctx context.Context) {
		defer wg.Done()
		select {
		case <-gctx.Done():
		case <-run.Done():
		}
	})
	for _, p := range parts {
		gen.Start(func(gctx context.Context) {
			defer wg.Done()
			if err := a.consume(run, gctx, gen, p, starts[p]); err != nil {
				fail(err)
			}
		})
	}
	wg.Wait()
}

// starts returns where each partition resumes: after its archived
// watermark when that is past the committed offset (archived, the commit
// lost to a crash), else at the committed offset. It deletes the files of
// incomplete flushes of the partitions and commits watermarks the group does
// not know yet.
func (a *Archiver) starts(ctx context.Context, gen *kafka.Generation, parts []int, committed map[int]int64) (map[int]int64, error) {
	st, err := scanArchive(a.cfg.Dir, a.cfg.Topic)
	if err != nil {
		return nil, err
	}
	addr := Addr{Brokers: a.cfg.Brokers, Topic: a.cfg.Topic}
	first, end, err := offsets(ctx, addr, parts, time.Time{})
	if err != nil {
		a.cfg.logf("kafka archive: %v (offsets not checked against the topic)", err)
		first, end = nil, nil
	}
	starts := map[int]int64{}
	advance := map[int]int64{}
	for _, p := range parts {
		if files := st.incomplete[p]; len(files) > 0 {
			a.cfg.logf("kafka archive: partition %d: removing %d files of an unfinished flush", p, len(files))
			if err := removeFiles(files); err != nil {
				return nil, fmt.Errorf("kafka archive %s: %w", a.cfg.Dir, err)
			}
		}
		start := committed[p]
		if w, ok := st.watermark[p]; ok {
			if end != nil && w >= end[p] {
				return nil, fmt.Errorf("kafka archive %s: holds offsets of %s partition %d up to %d, but the partition ends at %d: was the topic recreated? Archive it to another directory",
					a.cfg.Dir, a.cfg.Topic, p, w, end[p]-1)
			}
			if start < 0 || w+1 > start {
				a.cfg.logf("kafka archive: partition %d: offsets up to %d are archived but not committed (committed: %d); resuming at %d", p, w, start, w+1)
				start = w + 1
				advance[p] = start
			}
		}
		if first != nil && start >= 0 && start < first[p] {
			a.cfg.logf("kafka archive: partition %d: offsets %d..%d are gone (retention); resuming at %d", p, start, first[p]-1, first[p])
			start = first[p]
		}
		starts[p] = start
	}
	if len(advance) > 0 {
		a.commit(gen, advance)
	}
	return starts, nil
}

// commit commits offsets (next offset to read, per partition). A failure is
// logged, not returned: the file names hold what is archived, so a commit
// lost to a rebalance or an outage costs nothing but re-reading.
func (a *Archiver) commit(gen *kafka.Generation, next map[int]int64) bool {
	a.commitMu.Lock()
	defer a.commitMu.Unlock()
	if err := gen.CommitOffsets(map[string]map[int]int64{a.cfg.Topic: next}); err != nil {
		a.cfg.logf("kafka archive: commit %v: %v (the archive directory remembers the offsets)", next, err)
		return false
	}
	a.commits.Add(1)
	return true
}

// GroupOffsets returns, per partition of a's topic, the offset group has
// committed (-1 where none) and the partition's end offset (one past its
// last record). Lag is their difference.
func GroupOffsets(ctx context.Context, a Addr, group string) (committed, end map[int]int64, err error) {
	parts, err := Partitions(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	_, end, err = offsets(ctx, a, parts, time.Time{})
	if err != nil {
		return nil, nil, err
	}
	var res *kafka.OffsetFetchResponse
	err = retryTemporary(ctx, func() (err error) {
		res, err = a.client().OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{a.Topic: parts}})
		if err == nil {
			err = res.Error
		}
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("kafka %s: committed offsets of group %s: %w", a, group, err)
	}
	committed = map[int]int64{}
	for _, p := range parts {
		committed[p] = -1
	}
	for _, po := range res.Topics[a.Topic] {
		if po.Error != nil {
			return nil, nil, fmt.Errorf("kafka %s: committed offset of group %s partition %d: %w", a, group, po.Partition, po.Error)
		}
		committed[po.Partition] = po.CommittedOffset
	}
	return committed, end, nil
}
