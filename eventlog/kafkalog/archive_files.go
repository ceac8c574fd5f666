package kafkalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/surge-replay/surge/eventlog"
)

// Archive file names. A flush of one partition's offsets FROM..TO (inclusive)
// writes one file per UTC hour its events fall in, I of K:
//
//	DIR/dt=2026-11-21/hour=20/captures-p0003-o000000001000-000000001999-1of2.parquet
//
// The K files of a flush are complete when all K are present; a crash
// between their renames leaves fewer, which the next owner of the
// partition deletes (their offsets were not committed, so they are read
// again). The highest TO of the complete flushes of a partition is its
// archived watermark: consuming resumes after it whatever the committed
// offset says, so offsets archived but not yet committed are not written
// twice.
//
// While a flush is being written its files are hidden (a leading dot, no
// .parquet suffix) so that Files, DuckDB and Spark never see them:
//
//	DIR/dt=…/hour=…/.captures-p0003-o000000001000-h0.staged
var (
	archiveName = regexp.MustCompile(`^(.+)-p(\d+)-o(\d+)-(\d+)-(\d+)of(\d+)\.parquet$`)
	stagedName  = regexp.MustCompile(`^\.\.?(.+)-p(\d+)-o(\d+)-h(\d+)\.staged(\.tmp-\d+)?$`)
)

// fileName returns the final name of file i (1-based) of k of a flush.
func fileName(topic string, partition int, from, to int64, i, k int) string {
	return fmt.Sprintf("%s-p%04d-o%012d-%012d-%dof%d.parquet", topic, partition, from, to, i, k)
}

// stagedFileName returns the hidden name of the h-th hour file (0-based) of
// a flush starting at from, while it is written.
func stagedFileName(topic string, partition int, from int64, h int) string {
	return fmt.Sprintf(".%s-p%04d-o%012d-h%d.staged", topic, partition, from, h)
}

// flushKey identifies one flush of a partition.
type flushKey struct {
	partition int
	from, to  int64
	k         int
}

// archiveState is what an archive directory holds of one topic.
type archiveState struct {
	// watermark is the last archived offset of each partition with at
	// least one complete flush.
	watermark map[int]int64
	// incomplete lists the files of flushes missing some of their files,
	// and staged files left by a crash, per partition.
	incomplete map[int][]string
}

// scanArchive reads the names of the archive files of topic under dir. It
// opens no file.
func scanArchive(dir, topic string) (*archiveState, error) {
	st := &archiveState{watermark: map[int]int64{}, incomplete: map[int][]string{}}
	flushes := map[flushKey]map[int]string{} // → i → path
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == dir {
				return filepath.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		name := d.Name()
		if m := stagedName.FindStringSubmatch(name); m != nil && m[1] == topic {
			p, _ := strconv.Atoi(m[2])
			st.incomplete[p] = append(st.incomplete[p], path)
			return nil
		}
		m := archiveName.FindStringSubmatch(name)
		if m == nil || m[1] != topic {
			return nil
		}
		p, err1 := strconv.Atoi(m[2])
		from, err2 := strconv.ParseInt(m[3], 10, 64)
		to, err3 := strconv.ParseInt(m[4], 10, 64)
		i, err4 := strconv.Atoi(m[5])
		k, err5 := strconv.Atoi(m[6])
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil || i < 1 || i > k || from > to {
			return fmt.Errorf("%s: not a well-formed archive file name (want TOPIC-pP-oFROM-TO-IofK.parquet)", path)
		}
		key := flushKey{p, from, to, k}
		if flushes[key] == nil {
			flushes[key] = map[int]string{}
		}
		flushes[key][i] = path
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kafka archive %s: %w", dir, err)
	}
	var partial []flushKey
	for key, files := range flushes {
		if len(files) < key.k {
			partial = append(partial, key)
			continue
		}
		if w, ok := st.watermark[key.partition]; !ok || key.to > w {
			st.watermark[key.partition] = key.to
		}
	}
	for _, key := range partial {
		// A crash leaves only a partition's last flush incomplete: files of
		// the next flush are written after its renames are durable. An
		// incomplete flush before a complete one lost a file some other
		// way; removing the rest would lose its events for good.
		if w, ok := st.watermark[key.partition]; ok && key.from <= w {
			var have []string
			for _, path := range flushes[key] {
				have = append(have, path)
			}
			slices.Sort(have)
			return nil, fmt.Errorf("kafka archive %s: partition %d offsets %d..%d: %d of its %d files are missing (%s present) but later offsets are archived: a file was removed; restore it or remove the others",
				dir, key.partition, key.from, key.to, key.k-len(have), key.k, strings.Join(have, ", "))
		}
		for _, path := range flushes[key] {
			st.incomplete[key.partition] = append(st.incomplete[key.partition], path)
		}
	}
	return st, nil
}

// durableDirs creates directories and makes their entries durable.
type durableDirs struct {
	mu    sync.Mutex
	known map[string]bool // directories known to exist durably
}

// ensure creates dir and its missing parents and fsyncs the parent of each
// one it created, so that a file renamed into dir later is reachable after a
// crash.
func (d *durableDirs) ensure(dir string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.known[dir] {
		return nil
	}
	var created []string
	for p := dir; ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil {
			break
		}
		created = append(created, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	if err := os.MkdirAll(dir, eventlog.DirPerm()); err != nil {
		return err
	}
	for _, p := range created {
		if err := syncDir(filepath.Dir(p)); err != nil {
			return err
		}
	}
	if d.known == nil {
		d.known = map[string]bool{}
	}
	d.known[dir] = true
	return nil
}

// syncDir fsyncs a directory, making renames and creations in it durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// removeFiles deletes files and fsyncs their directories.
func removeFiles(paths []string) error {
	dirs := map[string]bool{}
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		dirs[filepath.Dir(p)] = true
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}
