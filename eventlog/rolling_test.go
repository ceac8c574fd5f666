package eventlog

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

func TestRollingWriter(t *testing.T) {
	dir := t.TempDir()
	// A crashed writer's leftover: a hidden temporary part.
	stale := filepath.Join(dir, "dt=2026-12-04", "hour=12", ".part-x.parquet.tmp-123")
	os.MkdirAll(filepath.Dir(stale), 0o755)
	os.WriteFile(stale, []byte("PAR1 half a file"), 0o644)

	w, removed, err := OpenRolling[schema.Exchange](dir, RollingConfig{MaxBytes: 3 * 256, WriterConfig: WriterConfig{Source: "proxy"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != stale {
		t.Errorf("removed %v; want [%s]", removed, stale)
	}
	t0 := time.Date(2026, 12, 4, 12, 59, 59, 0, time.UTC)
	var want []time.Time
	for i := range 8 {
		at := t0.Add(time.Duration(i) * 300 * time.Millisecond) // crosses 13:00
		want = append(want, at)
		if err := w.Add(&schema.Exchange{Time: at, Session: "s", Method: "GET", Scheme: "http", Host: "h", Path: "/", Protocol: schema.ProtoHTTP11, Source: "proxy"}); err != nil {
			t.Fatal(err)
		}
		if w.Due(time.Now()) {
			if err := w.Roll(); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.SetMetadata(schema.MetaCaptureLoss, `{"dropped":3}`)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := Files([]string{dir}, Range{})
	if err != nil {
		t.Fatal(err)
	}
	// 8 events rolled every 3 (by size) and at the hour: 4 parts.
	if len(files) != 4 {
		t.Errorf("files %v; want 4 parts", files)
	}
	for _, f := range files {
		if !strings.Contains(f, "dt=2026-12-04/hour=12/part-") && !strings.Contains(f, "dt=2026-12-04/hour=13/part-") {
			t.Errorf("part %s is not in its hour's partition", f)
		}
	}
	got, _ := readAll[schema.Exchange](t, []string{dir}, Range{})
	if len(got) != len(want) {
		t.Fatalf("read %d events; want %d", len(got), len(want))
	}
	for i := range got {
		if !got[i].Time.Equal(want[i]) {
			t.Errorf("event %d at %v; want %v", i, got[i].Time, want[i])
		}
	}
	meta, err := ReadDatasetMeta(dir)
	if err != nil || meta[schema.MetaCaptureLoss] != `{"dropped":3}` {
		t.Errorf("dataset metadata %v, %v; want the capture loss", meta, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file still there: %v", err)
	}
}

// TestRollingWriterFailedPart: a part that cannot be created is an error
// of Add; the writer goes on once the directory is writable again.
func TestRollingWriterFailedPart(t *testing.T) {
	dir := t.TempDir()
	w, _, err := OpenRolling[schema.Exchange](dir, RollingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	block := filepath.Join(dir, "dt=2026-12-04")
	os.WriteFile(block, nil, 0o644) // a file where the partition directory goes
	e := &schema.Exchange{Time: at, Session: "s", Method: "GET", Scheme: "http", Host: "h", Path: "/", Protocol: schema.ProtoHTTP11}
	if err := w.Add(e); err == nil {
		t.Fatal("Add into a blocked partition succeeded")
	}
	os.Remove(block)
	if err := w.Add(e); err != nil {
		t.Fatalf("Add after the partition was freed = %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := readAll[schema.Exchange](t, []string{dir}, Range{}); len(got) != 1 {
		t.Errorf("read %d events; want 1", len(got))
	}
}

// TestRollingWriterRecover: a writer abandoned without Close (a killed
// process) leaves its open parts as temporary files and write-ahead
// segments; the next OpenRolling puts every synced event back into a
// complete part, ignores a torn last record, and leaves no hidden file.
func TestRollingWriterRecover(t *testing.T) {
	dir := t.TempDir()
	w, _, err := OpenRolling[schema.Exchange](dir, RollingConfig{MaxAge: time.Hour, WriterConfig: WriterConfig{Source: "proxy", RowGroupRows: 4}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 4, 12, 59, 58, 0, time.UTC)
	ex := func(i int) *schema.Exchange {
		return &schema.Exchange{Time: t0.Add(time.Duration(i) * 100 * time.Millisecond), Session: "s", Seq: int32(i), Method: "GET", Scheme: "http", Host: "h", Path: "/", Protocol: schema.ProtoHTTP11, Source: "proxy", Body: []byte{0, 1, 2}}
	}
	const synced = 30 // crosses 13:00: two open parts
	for i := range synced {
		if err := w.Add(ex(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	// Added after the last Sync: still in the process's buffer, lost.
	w.Add(ex(synced))
	var segs []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, walSuffix) {
			segs = append(segs, path)
		}
		return nil
	})
	if len(segs) != 2 {
		t.Fatalf("write-ahead segments %v; want 2 (one per open hour)", segs)
	}
	// The process died mid-record: half a header and payload at the end.
	f, _ := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{200, 0, 0, 0, 1, 2, 3, 4, '{', '"'})
	f.Close()

	w2, removed, err := OpenRolling[schema.Exchange](dir, RollingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rec := w2.Recovered()
	if rec.Events != synced || len(rec.Parts) != 2 || len(rec.Torn) != 1 {
		t.Errorf("Recovered() = %+v; want %d events in 2 parts, 1 torn segment", rec, synced)
	}
	if len(removed) != 2 {
		t.Errorf("removed %v; want the 2 temporary parts", removed)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll[schema.Exchange](t, []string{dir}, Range{})
	if len(got) != synced {
		t.Fatalf("read %d events; want %d", len(got), synced)
	}
	for i, e := range got {
		if want := ex(i); !e.Time.Equal(want.Time) || e.Seq != want.Seq || string(e.Body) != string(want.Body) {
			t.Errorf("event %d = %v seq %d body %v; want %v seq %d", i, e.Time, e.Seq, e.Body, want.Time, want.Seq)
		}
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") && path != dir {
			t.Errorf("hidden file %s left after recovery", path)
		}
		return nil
	})

	// A third start finds nothing to recover: no event is written twice.
	w3, _, err := OpenRolling[schema.Exchange](dir, RollingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if rec := w3.Recovered(); rec.Events != 0 {
		t.Errorf("second recovery = %+v; want nothing", rec)
	}
}

// TestRollingWriterRecoverPartInPlace: a writer killed between putting a
// part in place and removing its segment leaves both; the segment is
// removed, not replayed a second time.
func TestRollingWriterRecoverPartInPlace(t *testing.T) {
	dir := t.TempDir()
	part := filepath.Join(dir, "dt=2026-12-04", "hour=12", "part-x.parquet")
	pw, err := Create[schema.Exchange](part, WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	e := &schema.Exchange{Time: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC), Session: "s", Method: "GET", Scheme: "http", Host: "h", Path: "/", Protocol: schema.ProtoHTTP11}
	pw.Add(e)
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := createWAL(part)
	if err != nil {
		t.Fatal(err)
	}
	l.add(e)
	l.sync()
	w, _, err := OpenRolling[schema.Exchange](dir, RollingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if rec := w.Recovered(); rec.Events != 0 {
		t.Errorf("Recovered() = %+v; want nothing (the part was in place)", rec)
	}
	if _, err := os.Stat(walPath(part)); !os.IsNotExist(err) {
		t.Errorf("segment of a part in place still there: %v", err)
	}
	if got, _ := readAll[schema.Exchange](t, []string{dir}, Range{}); len(got) != 1 {
		t.Errorf("read %d events; want 1", len(got))
	}
}

// FuzzReadWAL: any bytes in a segment end the replay cleanly, never panic.
func FuzzReadWAL(f *testing.F) {
	f.Add([]byte{2, 0, 0, 0, 0x93, 0xd3, 0x1b, 0x36, '{', '}'})
	f.Add([]byte{255, 255, 255, 255, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), ".x.wal")
		os.WriteFile(path, b, 0o644)
		readWAL(path, func(p []byte) error {
			var e schema.Exchange
			_ = json.Unmarshal(p, &e)
			return nil
		})
	})
}
