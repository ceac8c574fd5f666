package eventlog

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A RollingWriter's open part is a Parquet file whose footer is written only
// when the part is rolled, so a killed process leaves a temporary file no
// reader can open. Beside each open part the writer therefore keeps a
// write-ahead segment, a hidden file named
//
//	.part-….parquet.wal
//
// holding every event of the part as a record: a 4-byte little-endian
// payload length, the payload's 4-byte little-endian CRC-32 (IEEE), and the
// event as JSON (its json tags). Records are buffered and handed to the
// kernel at each Sync, so a killed process (SIGKILL, OOM) loses only the
// events added since the last Sync; a power loss may lose more (no fsync).
// OpenRolling replays every segment whose part is not in place into the
// part, complete, and removes the segment; a torn last record (the process
// died mid-write) ends the replay. When the part is rolled the segment is
// removed.

// walSuffix ends a write-ahead segment's name.
const walSuffix = ".wal"

// walMaxRecord bounds one record's payload: a larger length is corruption.
const walMaxRecord = 256 << 20

// walPath is the write-ahead segment of the part at path.
func walPath(part string) string {
	return filepath.Join(filepath.Dir(part), "."+filepath.Base(part)+walSuffix)
}

// partOfWAL is the part a write-ahead segment belongs to.
func partOfWAL(wal string) string {
	name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(wal), "."), walSuffix)
	return filepath.Join(filepath.Dir(wal), name)
}

// wal appends records to a write-ahead segment.
type wal struct {
	f   *os.File
	bw  *bufio.Writer
	hdr [8]byte
}

func createWAL(part string) (*wal, error) {
	f, err := os.OpenFile(walPath(part), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, FilePerm())
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	return &wal{f: f, bw: bufio.NewWriterSize(f, 64<<10)}, nil
}

// add appends one event.
func (l *wal) add(e any) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("eventlog: write-ahead %s: %w", l.f.Name(), err)
	}
	binary.LittleEndian.PutUint32(l.hdr[:4], uint32(len(b)))
	binary.LittleEndian.PutUint32(l.hdr[4:], crc32.ChecksumIEEE(b))
	l.bw.Write(l.hdr[:])
	if _, err := l.bw.Write(b); err != nil {
		return fmt.Errorf("eventlog: write-ahead %s: %w", l.f.Name(), err)
	}
	return nil
}

// sync hands the buffered records to the kernel.
func (l *wal) sync() error {
	if err := l.bw.Flush(); err != nil {
		return fmt.Errorf("eventlog: write-ahead %s: %w", l.f.Name(), err)
	}
	return nil
}

// remove closes and deletes the segment.
func (l *wal) remove() {
	l.f.Close()
	os.Remove(l.f.Name())
}

// readWAL calls fn with each whole record of the segment at path. A torn
// or corrupt record ends the segment: it and what follows are ignored, and
// torn reports it.
func readWAL(path string, fn func([]byte) error) (torn bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var hdr [8]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return !errors.Is(err, io.EOF), nil
		}
		n := binary.LittleEndian.Uint32(hdr[:4])
		if n > walMaxRecord {
			return true, nil
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return true, nil
		}
		if crc32.ChecksumIEEE(buf) != binary.LittleEndian.Uint32(hdr[4:]) {
			return true, nil
		}
		if err := fn(buf); err != nil {
			return false, err
		}
	}
}

// Recovery is what OpenRolling recovered from the write-ahead segments of
// a writer that did not finish (a killed process).
type Recovery struct {
	// Events is how many events were put back into parts.
	Events int64
	// Parts are the paths of the parts written from segments.
	Parts []string
	// Torn are the segments whose last record was incomplete (the
	// process died while writing it): that event is lost.
	Torn []string
}

// recoverWAL replays the write-ahead segments under dir into their parts.
// A segment whose part is already in place (the writer died between the
// rename and the removal) is removed. A segment that cannot be replayed
// is kept, and its error returned, so that nothing is lost.
func recoverWAL[T any, PT event[T]](dir string, cfg WriterConfig) (Recovery, error) {
	var rec Recovery
	var segs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != dir && strings.HasPrefix(d.Name(), "_") {
			return fs.SkipDir // another dataset (DIR/_frames) recovers its own
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), ".") && strings.HasSuffix(d.Name(), walSuffix) {
			segs = append(segs, path)
		}
		return nil
	})
	if err != nil {
		return rec, fmt.Errorf("eventlog: recover %s: %w", dir, err)
	}
	for _, seg := range segs {
		part := partOfWAL(seg)
		if _, err := os.Stat(part); err == nil {
			os.Remove(seg)
			continue
		}
		n, torn, err := replayWAL[T, PT](seg, part, cfg)
		if err != nil {
			return rec, err
		}
		if torn {
			rec.Torn = append(rec.Torn, seg)
		}
		if n > 0 {
			rec.Events += n
			rec.Parts = append(rec.Parts, part)
		}
		if err := os.Remove(seg); err != nil {
			return rec, fmt.Errorf("eventlog: recover %s: %w", seg, err)
		}
	}
	return rec, nil
}

// replayWAL writes the events of segment seg into the part at path.
func replayWAL[T any, PT event[T]](seg, part string, cfg WriterConfig) (int64, bool, error) {
	w, err := Create[T, PT](part, cfg)
	if err != nil {
		return 0, false, err
	}
	torn, err := readWAL(seg, func(b []byte) error {
		var e T
		if err := json.Unmarshal(b, &e); err != nil {
			return err
		}
		return w.Add(&e)
	})
	if err != nil {
		w.Abort()
		return 0, false, fmt.Errorf("eventlog: recover %s: %w", seg, err)
	}
	n := w.Count()
	if n == 0 {
		w.Abort()
		return 0, torn, nil
	}
	if err := w.Close(); err != nil {
		return 0, false, fmt.Errorf("eventlog: recover %s: %w", seg, err)
	}
	return n, torn, nil
}
