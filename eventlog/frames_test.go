package eventlog

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFramesPath: where a capture's frames live, and a directory walk that
// leaves them out of the capture's events.
func TestFramesPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"night.parquet", "night.frames.parquet"},         // a file: beside it
		{"dir/c.parquet", "dir/c.frames.parquet"},         // in a directory
		{"capture", filepath.Join("capture", "_frames")},  // a dataset
		{"capture/", filepath.Join("capture", "_frames")}, // with a slash
	} {
		if got := FramesPath(c.in); got != c.want {
			t.Errorf("FramesPath(%q) = %q; want %q", c.in, got, c.want)
		}
	}
	dir := t.TempDir()
	for _, n := range []string{"c.parquet", "c.frames.parquet"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	files, err := Files([]string{dir}, Range{})
	if err != nil || len(files) != 1 || filepath.Base(files[0]) != "c.parquet" {
		t.Errorf("Files(dir) = %v, %v; want c.parquet alone", files, err)
	}
}
