package eventlog

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// TestOutputModes: files and directories surge writes are readable by
// others under the usual umask (0644, 0755), not private like the temporary
// files they start as; a directory output may replace an old one only when
// asked.
func TestOutputModes(t *testing.T) {
	if FilePerm() != 0o644 || DirPerm() != 0o755 {
		t.Skipf("process umask is not 022 (file %v, dir %v)", FilePerm(), DirPerm())
	}
	testTime := time.Date(2026, 11, 21, 19, 55, 0, 0, time.UTC)
	dir := t.TempDir()
	ev := schema.Exchange{Session: "s", Method: "GET", Path: "/", Time: testTime}
	file := filepath.Join(dir, "x.parquet")
	w, err := Create[schema.Exchange](file, WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	w.Add(&ev)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "hive")
	write := func(replace bool) error {
		d, err := CreateDataset[schema.Exchange](out, WriterConfig{Replace: replace})
		if err != nil {
			return err
		}
		d.Add(&ev)
		return d.Close()
	}
	if err := write(false); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{file, 0o644}, {out, 0o755 | os.ModeDir}, {filepath.Join(out, PartitionPath(testTime)), 0o755 | os.ModeDir}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != c.want {
			t.Errorf("%s: mode %v; want %v", c.path, fi.Mode(), c.want)
		}
	}
	if err := write(false); err == nil {
		t.Fatal("a second write over a non-empty directory succeeded without Replace")
	}
	if err := write(true); err != nil {
		t.Fatalf("replace: %v", err)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, ".hive*")); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
