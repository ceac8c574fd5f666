package eventlog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/surge-replay/surge/schema"
)

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.parquet")
	writeFile(t, good, WriterConfig{RowGroupRows: 500}, exchanges(2000))
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A Parquet file that is not surge's (no version metadata).
	foreign := filepath.Join(dir, "foreign.parquet")
	{
		f, _ := os.Create(foreign)
		w := parquet.NewGenericWriter[schema.Exchange](f)
		w.Write(exchanges(3))
		w.Close()
		f.Close()
	}
	// A surge file from a future major version.
	future := filepath.Join(dir, "future.parquet")
	{
		f, _ := os.Create(future)
		w := parquet.NewGenericWriter[schema.Exchange](f, parquet.KeyValueMetadata(schema.MetaVersion, "2.0"), parquet.KeyValueMetadata(schema.MetaKind, "exchange"))
		w.Write(exchanges(3))
		w.Close()
		f.Close()
	}
	corrupt := append([]byte(nil), data...)
	for i := 100; i < len(corrupt)/2; i += 7 {
		corrupt[i] ^= 0x5a
	}
	views := filepath.Join(dir, "views.parquet")
	{
		w, _ := Create[schema.ViewingEvent](views, WriterConfig{})
		w.Close()
	}
	tests := []struct {
		name string
		path string
		want string // in the error
	}{
		// Cut in the middle: the footer is gone.
		{"truncated", write("trunc.parquet", data[:len(data)/2]), "trunc.parquet"},
		// Only the magic number.
		{"magic only", write("magic.parquet", []byte("PAR1")), "not a readable Parquet file"},
		// Not Parquet at all.
		{"text", write("text.parquet", []byte("time,session\n1,2\n")), "not a readable Parquet file"},
		// Someone else's Parquet.
		{"foreign", foreign, "not a surge event file"},
		// A newer major schema version.
		{"future version", future, `schema version "2.0" is not readable`},
		// Pages scrambled, footer intact: fails while reading, naming the file.
		{"corrupt pages", write("corrupt.parquet", corrupt), "corrupt.parquet"},
		// The wrong kind of events.
		{"wrong kind", views, `holds "view" events`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := readErr(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("reading %s: error = %v; want one containing %q", tt.name, err, tt.want)
			}
		})
	}
}

// readErr reads all of path and returns the first error.
func readErr(path string) error {
	rd, err := Open[schema.Exchange]([]string{path}, Range{})
	if err != nil {
		return err
	}
	defer rd.Close()
	for {
		if _, err := rd.Next(); err != nil {
			if err.Error() == "EOF" {
				return nil
			}
			return err
		}
	}
}
