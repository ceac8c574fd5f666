package eventlog

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// TestInteropDuckDBAndPyarrow has pyarrow and DuckDB open a file and a hive
// directory written by surge and checks they see every row, the types data
// engineers expect and the same values. It needs SURGE_PYTHON, a Python with
// pyarrow and duckdb; make test sets it up (scripts/install-python.sh).
func TestInteropDuckDBAndPyarrow(t *testing.T) {
	py := os.Getenv("SURGE_PYTHON")
	if py == "" {
		t.Skip("SURGE_PYTHON not set: run make test (it installs pyarrow and duckdb)")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "x.parquet")
	ds := filepath.Join(dir, "ds")
	evs := exchanges(3000)
	for i := range evs {
		// 100 minutes from 19:45: three hour partitions.
		evs[i].Time = t0.Add(time.Duration(i) * 2 * time.Second)
	}
	writeFile(t, file, WriterConfig{RowGroupRows: 1000}, evs)
	d, err := CreateDataset[schema.Exchange](ds, WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Write(append([]schema.Exchange(nil), evs...)...); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(py, "../scripts/interop.py", file, ds).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("interop.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got map[string]struct {
		Rows        int64             `json:"rows"`
		Types       map[string]string `json:"types"`
		FirstTime   string            `json:"first_time"`
		FirstHeader string            `json:"first_header"`
		Partitions  int               `json:"partitions"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("interop.py output: %v\n%s", err, out)
	}
	wantTypes := map[string]map[string]string{
		"pyarrow": {
			"time":    "timestamp[ns, tz=UTC]",
			"headers": "list<element: struct<name: string not null, value: string not null> not null>",
			"status":  "int32",
			"body":    "binary",
			"seq":     "int32",
		},
		"duckdb": {
			"time":    "TIMESTAMP WITH TIME ZONE",
			"headers": "STRUCT(\"name\" VARCHAR, \"value\" VARCHAR)[]",
			"status":  "INTEGER",
			"body":    "BLOB",
			"seq":     "INTEGER",
		},
	}
	for _, tool := range []string{"pyarrow", "duckdb"} {
		for _, src := range []string{"file", "dir"} {
			g := got[tool+"_"+src]
			if g.Rows != int64(len(evs)) {
				t.Errorf("%s %s: %d rows; want %d", tool, src, g.Rows, len(evs))
			}
			for col, want := range wantTypes[tool] {
				if g.Types[col] != want {
					t.Errorf("%s %s: column %s is %s; want %s", tool, src, col, g.Types[col], want)
				}
			}
			if want := "2026-11-21T19:45:00"; len(g.FirstTime) < len(want) || g.FirstTime[:len(want)] != want {
				t.Errorf("%s %s: first time %s; want %s", tool, src, g.FirstTime, want)
			}
		}
	}
	if h := got["duckdb_file"].FirstHeader; h != "User-Agent" {
		t.Errorf("duckdb: first header %q; want User-Agent", h)
	}
	if p := got["duckdb_dir"].Partitions; p != 3 {
		t.Errorf("duckdb: %d hive partitions; want 3", p)
	}
}
