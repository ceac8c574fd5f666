package profile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/internal/synth"
	"github.com/surge-replay/surge/schema"
)

// TestBuildErrors checks that inputs Build cannot profile get an error
// naming the file and what is wrong.
func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	frames := filepath.Join(dir, "frames.parquet")
	fw, err := eventlog.Create[schema.Frame](frames, eventlog.WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(schema.Frame{Time: t0, Session: "s", Conn: "c", Direction: schema.FromClient, Opcode: schema.OpText, Source: "test"})
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.parquet")
	ew, err := eventlog.Create[schema.Exchange](empty, eventlog.WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ew.Close(); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.parquet")
	os.WriteFile(junk, []byte("PAR1 not really"), 0o644)
	for _, tc := range []struct {
		name  string
		paths []string
		cfg   Config
		want  string
	}{
		{"missing", []string{filepath.Join(dir, "none.parquet")}, Config{}, "none.parquet"},                   // no such file
		{"frames", []string{frames}, Config{}, "frames.parquet holds frame events"},                           // not exchanges
		{"empty", []string{empty}, Config{}, "no requests to profile"},                                        // nothing in it
		{"junk", []string{junk}, Config{}, "junk.parquet"},                                                    // not Parquet
		{"negative idle", []string{empty}, Config{SessionIdle: -time.Second}, "session idle -1s is negative"}, // bad config
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(context.Background(), tc.paths, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Build = %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestSessionIdle checks that a session id seen again after more than
// SessionIdle starts a new session, and within it continues the old one.
func TestSessionIdle(t *testing.T) {
	gen := &synth.Sessions{Start: t0, Duration: time.Second, Arrivals: func(int) int { return 1 },
		Kinds: []synth.Kind{{Device: "tv", Paths: []string{"/a", "/b"}, Requests: 3, Think: 10 * time.Minute}}}
	path, _ := writeCapture(t, gen)
	for _, tc := range []struct {
		idle     time.Duration
		sessions int64
	}{
		{5 * time.Minute, 3},  // every 10-minute gap ends the session
		{15 * time.Minute, 1}, // one session of three requests
	} {
		p, err := Build(context.Background(), []string{path}, Config{SessionIdle: tc.idle})
		if err != nil {
			t.Fatal(err)
		}
		if p.Meta.Sessions != tc.sessions {
			t.Errorf("idle %v: %d sessions; want %d", tc.idle, p.Meta.Sessions, tc.sessions)
		}
		var arrivals int64
		for _, r := range p.ArrivalsSecond {
			arrivals += r.Sessions
		}
		if arrivals != tc.sessions {
			t.Errorf("idle %v: %d arrivals; want %d", tc.idle, arrivals, tc.sessions)
		}
	}
}

// FuzzParseClass checks ParseClass never panics and that what it accepts
// has a name and at least one condition.
func FuzzParseClass(f *testing.F) {
	for _, s := range []string{"path=/live/**:live", "device=tv,region=eu-*:tv-eu", "method~^P:post", ":x", "path=/a", "header.X=1:h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseClass(s)
		if err == nil && (r.Name == "" || len(r.Match) == 0 || r.Text != s) {
			t.Errorf("ParseClass(%q) = %+v; want a name and conditions", s, r)
		}
	})
}

// FuzzLoadMeta writes arbitrary profile.yaml bytes beside valid tables and
// checks Load never panics.
func FuzzLoadMeta(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "p")
	if err := Write(dir, &Profile{}); err != nil {
		f.Fatal(err)
	}
	good, _ := os.ReadFile(filepath.Join(dir, MetaFile))
	f.Add(good)
	f.Add([]byte("version: \"1\"\nminutes: -3\n"))
	f.Add([]byte("version: [1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, MetaFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		Load(dir)
	})
}

// TestBuildMissingColumn builds from a surge exchange file that lacks the
// protocol column and checks the error names the file and the column.
func TestBuildMissingColumn(t *testing.T) {
	type partial struct {
		Time    time.Time `parquet:"time,timestamp(nanosecond:utc)"`
		Session string    `parquet:"session"`
		Method  string    `parquet:"method,dict"`
		Host    string    `parquet:"host,dict"`
		Path    string    `parquet:"path"`
		Status  *int32    `parquet:"status,optional"`
		Region  string    `parquet:"region,dict"`
		Device  string    `parquet:"device,dict"`
	}
	path := filepath.Join(t.TempDir(), "partial.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[partial](f,
		parquet.KeyValueMetadata(schema.MetaVersion, schema.Version), parquet.KeyValueMetadata(schema.MetaKind, string(schema.KindExchange)),
		parquet.KeyValueMetadata(schema.MetaFirst, t0.Format(time.RFC3339Nano)), parquet.KeyValueMetadata(schema.MetaLast, t0.Format(time.RFC3339Nano)))
	if _, err := w.Write([]partial{{Time: t0, Session: "s", Method: "GET", Host: "h", Path: "/"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Build(context.Background(), []string{path}, Config{})
	if err == nil || !strings.Contains(err.Error(), `partial.parquet: no column "protocol"`) {
		t.Errorf("Build = %v; want an error naming partial.parquet and the protocol column", err)
	}
}
