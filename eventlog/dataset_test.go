package eventlog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

func TestDatasetPartitionsByHour(t *testing.T) {
	// 3 hours of events, one every 2 s, with a late event for the first hour
	// at the end (it must land in a second part of that hour).
	var evs []schema.Exchange
	for i, e := range exchanges(5400) {
		e.Time = t0.Add(time.Duration(i) * 2 * time.Second)
		evs = append(evs, e)
	}
	late := evs[0]
	late.Time = t0.Add(time.Minute + time.Millisecond)
	evs = append(evs, late)

	dir := filepath.Join(t.TempDir(), "ds")
	d, err := CreateDataset[schema.Exchange](dir, WriterConfig{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Write(evs...); err != nil {
		t.Fatal(err)
	}
	d.SetMetadata("k", "v")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := Files([]string{dir}, Range{})
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, f := range files {
		r, _ := filepath.Rel(dir, f)
		rel = append(rel, r)
	}
	want := "dt=2026-11-21/hour=19/part-00000.parquet dt=2026-11-21/hour=20/part-00000.parquet dt=2026-11-21/hour=21/part-00000.parquet dt=2026-11-21/hour=22/part-00000.parquet"
	if got := strings.Join(rel, " "); got != want {
		t.Errorf("files = %s; want %s", got, want)
	}
	got, _ := readAll[schema.Exchange](t, []string{dir}, Range{})
	if len(got) != len(evs) {
		t.Fatalf("read %d events; want %d", len(got), len(evs))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Time.Before(got[i-1].Time) {
			t.Fatalf("event %d out of order", i)
		}
	}
	meta, err := ReadDatasetMeta(dir)
	if err != nil || meta["k"] != "v" {
		t.Errorf("ReadDatasetMeta = %v, %v; want k=v", meta, err)
	}
	// An hour's range opens only that hour's partition.
	r := Range{From: time.Date(2026, 11, 21, 20, 10, 0, 0, time.UTC), To: time.Date(2026, 11, 21, 20, 20, 0, 0, time.UTC)}
	files, _ = Files([]string{dir}, r)
	if len(files) != 1 || !strings.Contains(files[0], "hour=20") {
		t.Errorf("Files(%v) = %v; want the hour=20 part only", r, files)
	}
	sel, _ := readAll[schema.Exchange](t, []string{dir}, r)
	if len(sel) != 300 {
		t.Errorf("read %d events in 10 minutes; want 300", len(sel))
	}
}

func TestDatasetRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep"), []byte("x"), 0o644)
	if _, err := CreateDataset[schema.Exchange](dir, WriterConfig{}); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("CreateDataset(non-empty) = %v; want an error naming %s", err, dir)
	}
}

func TestDatasetAbortLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	d, err := CreateDataset[schema.Exchange](filepath.Join(parent, "ds"), WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	d.Write(exchanges(10)...)
	d.Abort()
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("%d entries left after Abort", len(entries))
	}
}
