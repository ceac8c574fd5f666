package profile

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestWriteLoadRoundTrip writes a profile with a row in every table and
// reads the same profile back.
func TestWriteLoadRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC)
	p := &Profile{
		Meta: Meta{Capture: []string{"c.parquet"}, Built: t0, First: t0, Last: t0.Add(time.Minute), Start: t0,
			Minutes: 1, Seconds: 1, Requests: 3, Sessions: 1, Routes: []string{"GET /"}, Classes: []string{"tv"},
			Parameters: Parameters{SessionIdle: "30m0s", MaxRoutes: 200}},
		ArrivalsSecond:  []ArrivalSecond{{t0, 1}},
		ArrivalsMinute:  []ArrivalMinute{{t0, 1, 3}},
		RoutesMinute:    []RouteMinute{{t0, "GET /", 3}},
		Concurrency:     []Live{{t0, 1}},
		SessionLength:   []LengthBucket{{"tv", 16, 17, 1}},
		SessionRequests: []CountBucket{{"tv", 3, 4, 1}},
		ThinkTime:       []ThinkBucket{{"GET /", "GET /", 8, 9, 2}},
		Transitions:     []Transition{{"tv", StartRoute, "GET /", 1, 1}},
		Mix:             []Mix{{t0, DimRegion, "eu-west", 3, 1}},
		Status:          []StatusCount{{"GET /", 200, 3}},
		Moments:         []Moment{{t0, 2, CurveConcurrency, 10, 5, -0.5, "GET / 3→1 (×0.33)", "at 19:45 …"}},
	}
	dir := filepath.Join(t.TempDir(), "prof")
	for range 2 { // the second write replaces the first
		if err := Write(dir, p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	p.Meta.Version, p.Meta.Tables = FormatVersion, Tables
	if !reflect.DeepEqual(got, p) {
		t.Errorf("Load(Write(p)) = %+v\nwant %+v", got, p)
	}
	ents, _ := os.ReadDir(filepath.Dir(dir))
	if len(ents) != 1 {
		t.Errorf("left beside the profile: %v", ents)
	}
}

// TestLoadErrors checks that a bad profile gets an error naming the file
// and, for a table, the column.
func TestLoadErrors(t *testing.T) {
	good := filepath.Join(t.TempDir(), "p")
	if err := Write(good, &Profile{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		break_ func(dir string) error
		want   string
	}{
		// not a profile at all
		{"no yaml", func(d string) error { return os.Remove(filepath.Join(d, MetaFile)) }, "no profile.yaml"},
		// a key this version does not know
		{"unknown key", func(d string) error {
			return os.WriteFile(filepath.Join(d, MetaFile), []byte("version: \"1\"\nbogus: 1\n"), 0o644)
		}, "field bogus not found"},
		// another major version
		{"version", func(d string) error {
			return os.WriteFile(filepath.Join(d, MetaFile), []byte("version: \"2\"\n"), 0o644)
		}, `version "2"`},
		// a table that is not Parquet
		{"corrupt table", func(d string) error {
			return os.WriteFile(filepath.Join(d, TableMix), []byte("not parquet"), 0o644)
		}, "mix.parquet"},
		// a table with another table's columns
		{"wrong columns", func(d string) error {
			b, err := os.ReadFile(filepath.Join(d, TableStatus))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(d, TableMoments), b, 0o644)
		}, `moments.parquet: no column "time"`},
		// a missing table
		{"missing table", func(d string) error { return os.Remove(filepath.Join(d, TableThinkTime)) }, "table think_time.parquet is missing"},
		// profile.yaml and the tables disagree
		{"inconsistent", func(d string) error {
			return os.WriteFile(filepath.Join(d, MetaFile), []byte("version: \"1\"\nminutes: 3\n"), 0o644)
		}, "arrivals_minute.parquet has 0 rows; profile.yaml says minutes: 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "p")
			if err := os.CopyFS(dir, os.DirFS(good)); err != nil {
				t.Fatal(err)
			}
			if err := tc.break_(dir); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load = %v; want an error containing %q", err, tc.want)
			}
		})
	}
}
