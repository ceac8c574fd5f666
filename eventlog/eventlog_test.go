package eventlog

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

var t0 = time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC)

// exchanges makes n realistic exchanges, one per millisecond from t0 in
// session order, with every column set.
func exchanges(n int) []schema.Exchange {
	evs := make([]schema.Exchange, n)
	for i := range evs {
		e := schema.Exchange{
			Time:     t0.Add(time.Duration(i) * time.Millisecond),
			Session:  fmt.Sprintf("s%04d", i%97),
			User:     fmt.Sprintf("u%04d", i%89),
			Seq:      int32(i / 97),
			Method:   "GET",
			Scheme:   "https",
			Host:     "api.streamco.example",
			Path:     fmt.Sprintf("/api/v1/browse/rail-%d", i%7),
			Query:    "page=2",
			Headers:  []schema.Header{{Name: "User-Agent", Value: "tv/1.0"}, {Name: "Accept", Value: "*/*"}, {Name: "Accept", Value: "text/html"}},
			Region:   "eu-west",
			Device:   "tv",
			Protocol: schema.ProtoHTTP11,
			Source:   "test",
		}
		if i%5 == 0 {
			e.Method = "POST"
			e.SetBody([]byte(fmt.Sprintf(`{"n":%d}`, i)), 0)
		}
		if i%3 != 0 {
			e.Status = schema.Int32(200)
			e.ResponseBytes = schema.Int64(int64(1000 + i))
			e.LatencyNS = schema.Int64(int64(i) * 1000)
		}
		evs[i] = e
	}
	return evs
}

func writeFile(t testing.TB, path string, cfg WriterConfig, evs []schema.Exchange) {
	t.Helper()
	w, err := Create[schema.Exchange](path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func readAll[T any, PT event[T]](t testing.TB, paths []string, r Range) ([]T, Stats) {
	t.Helper()
	rd, err := Open[T, PT](paths, r)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var out []T
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *ev)
	}
	return out, rd.Stats()
}

func TestRoundTrip(t *testing.T) {
	want := exchanges(5000)
	path := filepath.Join(t.TempDir(), "x.parquet")
	writeFile(t, path, WriterConfig{Source: "test", RowGroupRows: 1000}, want)
	got, st := readAll[schema.Exchange](t, []string{path}, Range{})
	if len(got) != len(want) {
		t.Fatalf("read %d events; want %d", len(got), len(want))
	}
	for i := range want {
		normalize(&got[i])
		normalize(&want[i])
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if st.RowGroups != 5 || st.RowGroupsRead != 5 {
		t.Errorf("stats = %+v; want 5 row groups, all read", st)
	}
	info, err := Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Events != 5000 || !info.First.Equal(want[0].Time) || !info.Last.Equal(want[4999].Time) || info.Source != "test" || info.Kind != schema.KindExchange {
		t.Errorf("Stat = %+v", info)
	}
}

// normalize makes empty and nil slices compare equal.
func normalize(e *schema.Exchange) {
	if len(e.Body) == 0 {
		e.Body = nil
	}
	if len(e.Headers) == 0 {
		e.Headers = nil
	}
	e.Time = e.Time.UTC()
}

func TestWriterSortsOutOfOrderInput(t *testing.T) {
	tests := []struct {
		name string
		rows int // row group size
		perm func([]schema.Exchange)
	}{
		// Disorder inside one row group: sorted in memory.
		{"within group", 10000, func(e []schema.Exchange) { e[10], e[500] = e[500], e[10] }},
		// Row groups overlap in time: merged at Close.
		{"across groups", 700, func(e []schema.Exchange) {
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(e), func(i, j int) { e[i], e[j] = e[j], e[i] })
		}},
		// Many small overlapping runs: more than one merge pass.
		{"many runs", 100, func(e []schema.Exchange) {
			rand.New(rand.NewPCG(3, 4)).Shuffle(len(e), func(i, j int) { e[i], e[j] = e[j], e[i] })
		}},
		// Reversed input: every row group is before the previous one.
		{"reversed", 500, func(e []schema.Exchange) {
			for i, j := 0, len(e)-1; i < j; i, j = i+1, j-1 {
				e[i], e[j] = e[j], e[i]
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := exchanges(3000)
			tt.perm(evs)
			path := filepath.Join(t.TempDir(), "x.parquet")
			writeFile(t, path, WriterConfig{RowGroupRows: tt.rows}, evs)
			got, _ := readAll[schema.Exchange](t, []string{path}, Range{})
			if len(got) != 3000 {
				t.Fatalf("read %d events; want 3000", len(got))
			}
			for i := 1; i < len(got); i++ {
				if got[i].Time.Before(got[i-1].Time) {
					t.Fatalf("event %d at %v is before event %d at %v", i, got[i].Time, i-1, got[i-1].Time)
				}
			}
			left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*"))
			if len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

func TestRangeReadsOnlyNeededRowGroups(t *testing.T) {
	evs := exchanges(10000) // 10 s of events, 10 row groups of 1 s each
	path := filepath.Join(t.TempDir(), "x.parquet")
	writeFile(t, path, WriterConfig{RowGroupRows: 1000}, evs)
	tests := []struct {
		name      string
		r         Range
		wantN     int
		wantGroup int
	}{
		// Everything.
		{"all", Range{}, 10000, 10},
		// Two and a half seconds in the middle: groups 3, 4 and 5.
		{"middle", Range{t0.Add(3 * time.Second), t0.Add(5500 * time.Millisecond)}, 2500, 3},
		// Open start.
		{"until", Range{To: t0.Add(1500 * time.Millisecond)}, 1500, 2},
		// Open end: the last 100 ms.
		{"from", Range{From: t0.Add(9900 * time.Millisecond)}, 100, 1},
		// Outside the file.
		{"after", Range{From: t0.Add(time.Hour)}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st := readAll[schema.RequestLine](t, []string{path}, tt.r)
			if len(got) != tt.wantN || st.RowGroupsRead != tt.wantGroup {
				t.Errorf("read %d events from %d row groups; want %d from %d", len(got), st.RowGroupsRead, tt.wantN, tt.wantGroup)
			}
			for _, e := range got {
				if !tt.r.contains(e.Time) {
					t.Fatalf("event at %v outside %v", e.Time, tt.r)
				}
			}
		})
	}
}

func TestMergeManyFiles(t *testing.T) {
	dir := t.TempDir()
	all := exchanges(6000)
	// Deal events round-robin into 4 files, so every file spans the whole
	// time range and the merge must interleave them.
	var parts [4][]schema.Exchange
	for i, e := range all {
		parts[i%4] = append(parts[i%4], e)
	}
	var paths []string
	for i, p := range parts {
		path := filepath.Join(dir, fmt.Sprintf("p%d.parquet", i))
		writeFile(t, path, WriterConfig{RowGroupRows: 400}, p)
		paths = append(paths, path)
	}
	got, st := readAll[schema.Exchange](t, paths, Range{})
	if len(got) != len(all) || st.Files != 4 {
		t.Fatalf("read %d events from %d files; want %d from 4", len(got), st.Files, len(all))
	}
	for i := range got {
		if !got[i].Time.Equal(all[i].Time) || got[i].Path != all[i].Path {
			t.Fatalf("event %d = %v %s; want %v %s", i, got[i].Time, got[i].Path, all[i].Time, all[i].Path)
		}
	}
}

// TestProjectionReadsReplayColumns reads the replay projection: requests
// with their bodies (a POST replays its body), no response facts.
func TestProjectionReadsReplayColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.parquet")
	writeFile(t, path, WriterConfig{}, exchanges(100))
	got, _ := readAll[schema.RequestLine](t, []string{path}, Range{})
	if len(got) != 100 || got[5].Method != "POST" || len(got[5].Headers) != 3 || string(got[5].Body) != `{"n":5}` || got[5].Device != "tv" {
		t.Fatalf("projection read %d events, event 5 = %+v", len(got), got[5])
	}
	if got[6].Body != nil {
		t.Errorf("event 6 has body %q; want none", got[6].Body)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.parquet")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Create[schema.Exchange](path, WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(exchanges(10)...); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	w.Abort() // safe twice
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir has %d entries after Abort; want only the old file", len(entries))
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("old file changed to %q", b)
	}
}
