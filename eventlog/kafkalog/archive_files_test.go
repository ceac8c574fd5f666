package kafkalog

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestScanArchive reads archived watermarks and leftovers of crashes from
// file names alone.
func TestScanArchive(t *testing.T) {
	h19, h20 := "dt=2026-11-21/hour=19", "dt=2026-11-21/hour=20"
	tests := []struct {
		name       string
		files      []string // relative to the archive directory
		watermark  map[int]int64
		incomplete map[int]int // how many leftover files per partition
		err        string      // a substring of the error, "" for none
	}{
		// nothing archived yet
		{"empty", nil, map[int]int64{}, map[int]int{}, ""},
		// the highest last offset of complete flushes, per partition
		{"complete flushes", []string{
			h19 + "/t-p0000-o000000000000-000000000099-1of1.parquet",
			h19 + "/t-p0000-o000000000100-000000000199-1of2.parquet",
			h20 + "/t-p0000-o000000000100-000000000199-2of2.parquet",
			h20 + "/t-p0003-o000000000000-000000000009-1of1.parquet",
		}, map[int]int64{0: 199, 3: 9}, map[int]int{}, ""},
		// a crash between the renames of the last flush: it is a leftover,
		// the flush before sets the watermark
		{"last flush incomplete", []string{
			h19 + "/t-p0000-o000000000000-000000000099-1of1.parquet",
			h19 + "/t-p0000-o000000000100-000000000199-1of2.parquet",
		}, map[int]int64{0: 99}, map[int]int{0: 1}, ""},
		// files being written when the process died, and their temporaries
		{"staged files", []string{
			h19 + "/.t-p0001-o000000000000-h0.staged",
			h20 + "/..t-p0001-o000000000000-h1.staged.tmp-12345",
		}, map[int]int64{}, map[int]int{1: 2}, ""},
		// a missing file before later complete flushes was not a crash
		{"hole", []string{
			h19 + "/t-p0000-o000000000000-000000000099-1of2.parquet",
			h19 + "/t-p0000-o000000000100-000000000199-1of1.parquet",
		}, nil, nil, "1 of its 2 files are missing"},
		// other topics (one whose name looks like ours plus a partition),
		// other Parquet files and other hidden files are not ours
		{"not ours", []string{
			h19 + "/t-p0001-p0000-o000000000000-000000000099-1of1.parquet",
			h19 + "/u-p0000-o000000000000-000000000099-1of1.parquet",
			h19 + "/part-00000.parquet",
			h19 + "/.part-00000.parquet.tmp-1",
		}, map[int]int64{}, map[int]int{}, ""},
		// a name of our form with impossible numbers
		{"malformed", []string{
			h19 + "/t-p0000-o000000000000-000000000099-3of2.parquet",
		}, nil, nil, "not a well-formed archive file name"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		for _, f := range tt.files {
			path := filepath.Join(dir, f)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		st, err := scanArchive(dir, "t")
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: scanArchive = %v; want an error with %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: scanArchive = %v", tt.name, err)
			continue
		}
		if !maps.Equal(st.watermark, tt.watermark) {
			t.Errorf("%s: watermark = %v; want %v", tt.name, st.watermark, tt.watermark)
		}
		got := map[int]int{}
		for p, files := range st.incomplete {
			got[p] = len(files)
		}
		if !maps.Equal(got, tt.incomplete) {
			t.Errorf("%s: leftovers = %v; want %v per partition", tt.name, st.incomplete, tt.incomplete)
		}
	}
}

// TestArchiveNamesRoundTrip: the names the archiver writes are the names
// the scanner reads, for topics with dashes and digits.
func TestArchiveNamesRoundTrip(t *testing.T) {
	for _, topic := range []string{"captures", "a-p0001-o5", "x.y_z-9"} {
		name := fileName(topic, 11, 1000, 1999, 2, 3)
		m := archiveName.FindStringSubmatch(name)
		if m == nil || !slices.Equal(m[1:], []string{topic, "0011", "000000001000", "000000001999", "2", "3"}) {
			t.Errorf("fileName(%q) = %s; parsed %q", topic, name, m)
		}
		staged := stagedFileName(topic, 11, 1000, 4)
		if m := stagedName.FindStringSubmatch(staged); m == nil || m[1] != topic || m[2] != "0011" {
			t.Errorf("stagedFileName(%q) = %s; parsed %q", topic, staged, m)
		}
	}
}
