package kafkalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
)

// archiver runs an Archiver on a until stop is called, which waits for Run
// and returns its error.
type archiver struct {
	*kafkalog.Archiver
	stop func() error
	// wait waits up to timeout for Run to return by itself (no cancel)
	// and returns its error; ok is false when it did not return in time.
	wait func(timeout time.Duration) (err error, ok bool)
}

func startArchiver(t *testing.T, cfg kafkalog.ArchiveConfig) *archiver {
	t.Helper()
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = 200 * time.Millisecond
	}
	cfg.SessionTimeout = 6 * time.Second
	cfg.Logf = t.Logf
	a, err := kafkalog.NewArchiver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	var runErr error
	returned := make(chan struct{})
	collect := func(timeout time.Duration, why string) {
		once.Do(func() {
			select {
			case runErr = <-done:
			case <-time.After(timeout):
				runErr = errors.New("Run did not return " + why)
			}
			close(returned)
		})
	}
	stop := func() error {
		cancel()
		collect(time.Minute, "a minute after cancel")
		<-returned
		return runErr
	}
	wait := func(timeout time.Duration) (error, bool) {
		select {
		case err := <-done:
			once.Do(func() { runErr = err; close(returned) })
		case <-returned:
		case <-time.After(timeout):
			return nil, false
		}
		return runErr, true
	}
	t.Cleanup(func() { stop() })
	return &archiver{a, stop, wait}
}

// waitEvents waits until a has archived at least n events.
func waitEvents(t *testing.T, a *archiver, n int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for a.Stats().Events < n {
		if time.Now().After(deadline) {
			t.Fatalf("archived %d events after %s; want %d (%+v)", a.Stats().Events, timeout, n, a.Stats())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitConsumed waits until a has read at least n records.
func waitConsumed(t *testing.T, a *archiver, n int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for a.Stats().Consumed < n {
		if time.Now().After(deadline) {
			t.Fatalf("consumed %d records after %s; want %d", a.Stats().Consumed, timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func archiveConfig(a kafkalog.Addr, dir, group string) kafkalog.ArchiveConfig {
	return kafkalog.ArchiveConfig{Brokers: a.Brokers, Topic: a.Topic, Dir: dir, Group: group}
}

// TestArchiveStopAndResume archives a topic, stops (everything consumed is
// written and committed), then resumes with new records: each event is in
// the archive once, in hour partitions, with the offsets in the metadata.
func TestArchiveStopAndResume(t *testing.T) {
	addr := kafkatest.Topic(t, kafkatest.Brokers(t), 4, "")
	dir := filepath.Join(t.TempDir(), "archive")
	group := "g-" + addr.Topic
	kafkatest.Produce(t, addr, 0, 20000)

	// A long interval: only the stop flushes.
	cfg := archiveConfig(addr, dir, group)
	cfg.FlushInterval = time.Hour
	a := startArchiver(t, cfg)
	// Wait until everything is consumed: the stop must archive it all.
	waitConsumed(t, a, 20000, time.Minute)
	if committed, _ := groupOffsets(t, addr, group); committed[0] >= 0 {
		t.Fatalf("committed %v before any flush", committed)
	}
	if err := a.stop(); err != nil {
		t.Fatalf("Run = %v; want nil after cancel", err)
	}
	if s := a.Stats(); s.Events != 20000 || s.Flushes != 4 {
		t.Errorf("stats after stop = %+v; want 20000 events in 4 flushes (one per partition)", s)
	}
	kafkatest.WaitCommitted(t, addr, group, 10*time.Second)
	kafkatest.CheckArchive(t, dir, 20000)

	kafkatest.Produce(t, addr, 20000, 5000)
	b := startArchiver(t, archiveConfig(addr, dir, group))
	waitEvents(t, b, 5000, time.Minute)
	kafkatest.WaitCommitted(t, addr, group, 30*time.Second)
	if err := b.stop(); err != nil {
		t.Fatal(err)
	}
	kafkatest.CheckArchive(t, dir, 25000)

	// The events are in the hour of the first, metadata names the offsets.
	files, err := filepath.Glob(filepath.Join(dir, eventlog.PartitionPath(kafkatest.EventsStart), "*.parquet"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in %s: %v", eventlog.PartitionPath(kafkatest.EventsStart), err)
	}
	info, err := eventlog.Stat(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if info.Metadata[kafkalog.MetaTopic] != addr.Topic || info.Metadata[kafkalog.MetaOffsets] == "" || info.Source != "kafkatest" {
		t.Errorf("metadata of %s = %v; want topic, offsets and source", files[0], info.Metadata)
	}
}

func groupOffsets(t *testing.T, a kafkalog.Addr, group string) (committed, end map[int]int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	committed, end, err := kafkalog.GroupOffsets(ctx, a, group)
	if err != nil {
		t.Fatal(err)
	}
	return committed, end
}

func consumedAll(committed, end map[int]int64) bool {
	for p, e := range end {
		if committed[p] != e {
			return false
		}
	}
	return true
}

// TestArchiveArchivedButNotCommitted: offsets archived whose commit was
// lost (a crash between rename and commit; here, another group) are not
// written again, and the group's offsets are moved past them.
func TestArchiveArchivedButNotCommitted(t *testing.T) {
	addr := kafkatest.Topic(t, kafkatest.Brokers(t), 3, "")
	dir := filepath.Join(t.TempDir(), "archive")
	kafkatest.Produce(t, addr, 0, 9000)
	a := startArchiver(t, archiveConfig(addr, dir, "first-"+addr.Topic))
	waitEvents(t, a, 9000, time.Minute)
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}

	// A group that never committed: it must start after the archived
	// offsets, not at the beginning of the topic.
	group := "second-" + addr.Topic
	b := startArchiver(t, archiveConfig(addr, dir, group))
	kafkatest.WaitCommitted(t, addr, group, time.Minute)
	if err := b.stop(); err != nil {
		t.Fatal(err)
	}
	if s := b.Stats(); s.Events != 0 {
		t.Errorf("second archiver wrote %d events; want 0 (all archived already)", s.Events)
	}
	kafkatest.CheckArchive(t, dir, 9000)
}

// TestArchiveIncompleteFlush: a crash between the renames of one flush's
// files leaves some of them; the next owner removes them, and staged
// files, and archives those offsets again.
func TestArchiveIncompleteFlush(t *testing.T) {
	addr := kafkatest.Topic(t, kafkatest.Brokers(t), 1, "")
	dir := filepath.Join(t.TempDir(), "archive")
	// Events 165000..179999 cross an hour: one flush, two hour files.
	const from, n = 165000, 15000
	kafkatest.Produce(t, addr, from, n)
	cfg := archiveConfig(addr, dir, "first-"+addr.Topic)
	cfg.FlushInterval = time.Hour
	a := startArchiver(t, cfg)
	waitConsumed(t, a, n, 2*time.Minute)
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	second, err := filepath.Glob(filepath.Join(dir, "*", "*", "*-2of2.parquet"))
	if err != nil || len(second) != 1 {
		t.Fatalf("want one file 2 of 2, got %v (%v)", second, err)
	}
	if err := os.Remove(second[0]); err != nil {
		t.Fatal(err)
	}
	staged := filepath.Join(filepath.Dir(second[0]), "."+addr.Topic+"-p0000-o000000000000-h1.staged")
	if err := os.WriteFile(staged, []byte("half a file"), 0o644); err != nil {
		t.Fatal(err)
	}

	group := "second-" + addr.Topic
	b := startArchiver(t, archiveConfig(addr, dir, group))
	waitEvents(t, b, n, 2*time.Minute)
	if err := b.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(staged); !os.IsNotExist(err) {
		t.Errorf("staged file left behind: %v", err)
	}
	kafkatest.CheckArchiveRange(t, dir, from, from+n)
}

// TestArchiveBadRecords: records that do not decode are counted and named
// by partition and offset, the others archived; with Strict the archiver
// stops at the first, after archiving and committing the records before it.
func TestArchiveBadRecords(t *testing.T) {
	addr := kafkatest.Topic(t, kafkatest.Brokers(t), 1, "")
	kafkatest.Produce(t, addr, 0, 100)
	produceRaw(t, addr, []kafka.Message{
		{Value: []byte{1, 2, 3}, Headers: kafkalog.Headers(kafkalog.Binary, "")}, // truncated binary value
		{Value: []byte("no headers")},                                            // not a surge record
	})
	kafkatest.Produce(t, addr, 100, 50)

	tests := []struct {
		name   string
		strict bool
		events int64 // archived
		next   int64 // committed offset
	}{
		{"skip and count", false, 150, 152}, // both bad records skipped, all offsets committed
		{"strict", true, 100, 100},          // stops at offset 100, the first bad record
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "archive")
			cfg := archiveConfig(addr, dir, tt.name+"-"+addr.Topic)
			cfg.Strict = tt.strict
			var mu sync.Mutex
			var bad []*kafkalog.RecordError
			cfg.OnBadRecord = func(e *kafkalog.RecordError) {
				mu.Lock()
				bad = append(bad, e)
				mu.Unlock()
			}
			a := startArchiver(t, cfg)
			var err error
			if tt.strict {
				// Run ends by itself at the bad record; a cancel before that
				// would race the error (the commit of offset 100 comes first).
				var ok bool
				if err, ok = a.wait(time.Minute); !ok {
					t.Fatalf("strict Run did not stop at the bad record within a minute (%+v)", a.Stats())
				}
			} else {
				deadline := time.Now().Add(time.Minute)
				for {
					committed, _ := groupOffsets(t, addr, cfg.Group)
					if committed[0] == tt.next || time.Now().After(deadline) {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				err = a.stop()
			}
			var re *kafkalog.RecordError
			if tt.strict != (err != nil) || tt.strict && (!errors.As(err, &re) || re.Offset != 100 || re.Partition != 0) {
				t.Errorf("Run = %v; want strict=%t to stop with the record error at offset 100", err, tt.strict)
			}
			if committed, _ := groupOffsets(t, addr, cfg.Group); committed[0] != tt.next {
				t.Errorf("committed %d; want %d", committed[0], tt.next)
			}
			if s := a.Stats(); s.Events != tt.events {
				t.Errorf("archived %d events; want %d", s.Events, tt.events)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(bad) == 0 || bad[0].Offset != 100 || !strings.Contains(bad[0].Error(), "offset 100") {
				t.Errorf("bad records reported: %v; want offset 100 first", bad)
			}
		})
	}
}

func produceRaw(t *testing.T, a kafkalog.Addr, msgs []kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(a.Brokers...), Transport: kafkalog.Transport(), Topic: a.Topic, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

// TestArchiveBrokerRestart restarts the broker while the archiver runs:
// nothing is lost or duplicated, and the archiver resumes by itself.
func TestArchiveBrokerRestart(t *testing.T) {
	c := kafkatest.Private(t, 1)
	addr := kafkatest.Topic(t, c.Brokers, 4, "")
	dir := filepath.Join(t.TempDir(), "archive")
	kafkatest.Produce(t, addr, 0, 100000)
	cfg := archiveConfig(addr, dir, "g-"+addr.Topic)
	cfg.FlushEvents = 5000
	a := startArchiver(t, cfg)
	waitEvents(t, a, 20000, time.Minute)
	c.Restart()
	t.Logf("broker restarted with %d events archived", a.Stats().Events)
	kafkatest.Produce(t, addr, 100000, 50000)
	kafkatest.WaitCommitted(t, addr, cfg.Group, 3*time.Minute)
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	kafkatest.CheckArchive(t, dir, 150000)
}

// TestArchiveInterop has pyarrow and DuckDB read an archive directory (two
// hour partitions) and one of its files. It needs SURGE_PYTHON, a Python
// with pyarrow and duckdb; make test sets it up.
func TestArchiveInterop(t *testing.T) {
	py := os.Getenv("SURGE_PYTHON")
	if py == "" {
		t.Skip("SURGE_PYTHON not set: run make test (it installs pyarrow and duckdb)")
	}
	addr := kafkatest.Topic(t, kafkatest.Brokers(t), 2, "")
	dir := filepath.Join(t.TempDir(), "archive")
	// Events 165000..179999 cross an hour: two hour partitions.
	const from, n = 165000, 15000
	kafkatest.Produce(t, addr, from, n)
	a := startArchiver(t, archiveConfig(addr, dir, "g-"+addr.Topic))
	waitEvents(t, a, n, time.Minute)
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	files, err := eventlog.Files([]string{dir}, eventlog.Range{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := eventlog.Stat(files[0])
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "../../scripts/interop.py", files[0], dir).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("interop.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got map[string]struct {
		Rows       int64             `json:"rows"`
		Types      map[string]string `json:"types"`
		Partitions int               `json:"partitions"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("interop.py output: %v\n%s", err, out)
	}
	want := map[string]int64{"pyarrow_file": info.Events, "duckdb_file": info.Events, "pyarrow_dir": n, "duckdb_dir": n}
	for src, rows := range want {
		if got[src].Rows != rows {
			t.Errorf("%s: %d rows; want %d", src, got[src].Rows, rows)
		}
	}
	if ty := got["duckdb_dir"].Types["time"]; ty != "TIMESTAMP WITH TIME ZONE" {
		t.Errorf("duckdb: time is %s; want TIMESTAMP WITH TIME ZONE", ty)
	}
	if p := got["duckdb_dir"].Partitions; p != 2 {
		t.Errorf("duckdb: %d hive partitions; want 2", p)
	}
}

// TestArchiveTwoMembers: two archivers in one group share the partitions
// and one directory; when one stops, the other takes its partitions over
// from where it stopped. Every event is archived once.
func TestArchiveTwoMembers(t *testing.T) {
	addr := kafkatest.Topic(t, kafkatest.Brokers(t), 6, "")
	dir := filepath.Join(t.TempDir(), "archive")
	group := "g-" + addr.Topic
	kafkatest.Produce(t, addr, 0, 30000)
	cfg := archiveConfig(addr, dir, group)
	cfg.FlushEvents = 2000
	a := startArchiver(t, cfg)
	b := startArchiver(t, cfg)
	// Either may join the group first and archive everything there was
	// before the other joins: the one that archived stops, and the other
	// takes its partitions over.
	deadline := time.Now().Add(time.Minute)
	for a.Stats().Events+b.Stats().Events == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no events archived after 1m (%+v, %+v)", a.Stats(), b.Stats())
		}
		time.Sleep(50 * time.Millisecond)
	}
	first, second := a, b
	if a.Stats().Events == 0 {
		first, second = b, a
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	kafkatest.Produce(t, addr, 30000, 20000)
	kafkatest.WaitCommitted(t, addr, group, 2*time.Minute)
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("first archiver wrote %d events, second %d", first.Stats().Events, second.Stats().Events)
	kafkatest.CheckArchive(t, dir, 50000)
}

// TestArchiveNoTopic: a topic that does not exist is an error naming it,
// not a silent wait.
func TestArchiveNoTopic(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	a, err := kafkalog.NewArchiver(kafkalog.ArchiveConfig{Brokers: brokers, Topic: "no-such-topic-kafka-archive", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Run(ctx); err == nil || !strings.Contains(err.Error(), "no-such-topic-kafka-archive") {
		t.Errorf("Run = %v; want an error naming the topic", err)
	}
}
