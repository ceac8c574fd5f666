package eventlog

import (
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
