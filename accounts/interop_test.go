package accounts

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// TestInteropDuckDBAndPyarrow: pyarrow and DuckDB read a pool's
// accounts.parquet (history a list of structs), and a DuckDB query over
// the source viewing events alone finds every account's history equal to
// its recorded user's. It needs SURGE_PYTHON, a Python with pyarrow and
// duckdb (make test sets it up: scripts/install-python.sh).
func TestInteropDuckDBAndPyarrow(t *testing.T) {
	py := os.Getenv("SURGE_PYTHON")
	if py == "" {
		t.Skip("SURGE_PYTHON not set: run make test (it installs pyarrow and duckdb)")
	}
	evs := syntheticViews(400, 11)
	// Millisecond times, as real captures have them.
	for i := range evs {
		evs[i].Time = evs[i].Time.Add(time.Duration(i%997) * time.Millisecond)
	}
	evs = append(evs, schema.ViewingEvent{Time: t0, Content: "anon", Type: schema.ViewStart, Source: "views"}) // no user: left out
	dir := t.TempDir()
	views := writeViews(t, dir, evs)
	pool := filepath.Join(dir, "pool")
	meta, err := Build(t.Context(), BuildConfig{Views: []string{views}, RatioMax: 2, Minter: testMinter(t),
		Epoch: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), Out: pool, Buckets: 4, RowGroupRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "../scripts/pool_interop.py", pool, views).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("pool_interop.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got struct {
		Pyarrow struct {
			Rows  int64             `json:"rows"`
			Types map[string]string `json:"types"`
		} `json:"pyarrow"`
		DuckDB struct {
			Types                                    map[string]string `json:"types"`
			Accounts, Users, UnknownUsers, Differing int64
			SourceUsers                              int64 `json:"source_users"`
			Viewings                                 int64
		} `json:"duckdb"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("pool_interop.py output: %v\n%s", err, out)
	}
	d := got.DuckDB
	if got.Pyarrow.Rows != meta.Accounts || d.Accounts != meta.Accounts || d.Users != meta.Users || d.SourceUsers != meta.Users {
		t.Errorf("rows: pyarrow %d, duckdb %d accounts of %d users (%d in the source); want %d of %d", got.Pyarrow.Rows, d.Accounts, d.Users, d.SourceUsers, meta.Accounts, meta.Users)
	}
	if d.Differing != 0 || d.UnknownUsers != 0 || d.Viewings != 2*meta.Viewings {
		t.Errorf("DuckDB: %d accounts whose history differs from their user's, %d of unknown users, %d viewings; want 0, 0, %d", d.Differing, d.UnknownUsers, d.Viewings, 2*meta.Viewings)
	}
	if h := d.Types["history"]; !strings.Contains(h, `STRUCT("content" VARCHAR, "time" TIMESTAMP WITH TIME ZONE, position_ms BIGINT, device VARCHAR)[]`) {
		t.Errorf("DuckDB history type %q; want a list of struct(content, time, position_ms, device)", h)
	}
	if h := got.Pyarrow.Types["history"]; !strings.HasPrefix(h, "list<element: struct<content: string") || !strings.Contains(h, "time: timestamp[ns, tz=UTC]") {
		t.Errorf("pyarrow history type %q; want list<struct<content, time, …>>", h)
	}
	for _, col := range []string{"account", "user", "credential", "region", "device"} {
		if got.DuckDB.Types[col] != "VARCHAR" {
			t.Errorf("DuckDB %s: %q; want VARCHAR", col, got.DuckDB.Types[col])
		}
	}
}
