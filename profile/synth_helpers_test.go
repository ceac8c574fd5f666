package profile

import (
	"context"
	"errors"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/capture"
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

var (
	synthSampleOnce sync.Once
	synthSamplePath string
	synthSampleErr  error
)

// synthSample imports the bundled match-night sample (the make demo
// sample, testdata/sample/gen) once, as configs/capture.yaml does.
func synthSample(t testing.TB) string {
	t.Helper()
	synthSampleOnce.Do(func() {
		// sharedDir: build_test.go's TestMain makes and removes it.
		synthSamplePath = filepath.Join(sharedDir, "synth-night.parquet")
		synthSampleErr = importSample(synthSamplePath)
	})
	if synthSampleErr != nil {
		t.Fatal(synthSampleErr)
	}
	return synthSamplePath
}

func importSample(out string) error {
	const sample = "../testdata/sample/"
	format, err := os.ReadFile(sample + "match-night.format")
	if err != nil {
		return err
	}
	in, err := capture.OpenFile(sample + "match-night.log.gz")
	if err != nil {
		return err
	}
	defer in.Close()
	dec, err := capture.NewNginxDecoder(in, "match-night.log.gz", string(format))
	if err != nil {
		return err
	}
	key, err := capture.ParseSessionKey("cookie:sid")
	if err != nil {
		return err
	}
	w, err := eventlog.Create[schema.Exchange](out, eventlog.WriterConfig{Source: "nginx",
		Metadata: map[string]string{schema.MetaResolution: "1s"}})
	if err != nil {
		return err
	}
	opts := capture.Options{Session: key, IdleGap: 30 * time.Minute, ReorderWindow: 30 * time.Second,
		Host: "api.streamco.example", Scrub: capture.ScrubConfig{Key: []byte("test-key"), Headers: []string{"X-Device-Id"}, Query: []string{"user"}}}
	if _, err := capture.Import(context.Background(), []capture.Input{{Name: "match-night.log.gz", Decode: dec}}, opts, func(e *schema.Exchange) error {
		return w.Add(e)
	}); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// printed is a capture read for the tests: each session's fingerprint
// (sessionPrint) and first time by session id, and the share of requests
// per route group.
type printed struct {
	prints map[string]uint64
	firsts map[string]time.Time
	routes map[string]float64
}

// fingerprints reads a capture. With lines, it reads the replay projection
// (fast: column by column) and prints its fields only.
func fingerprints(t testing.TB, path string, lines bool) printed {
	t.Helper()
	if lines {
		return fingerprintsOf[schema.RequestLine](t, path, func(l *schema.RequestLine) schema.Exchange { return l.Exchange() })
	}
	return fingerprintsOf[schema.Exchange](t, path, func(e *schema.Exchange) schema.Exchange { return *e })
}

func fingerprintsOf[T any, PT interface {
	*T
	schema.Event
}](t testing.TB, path string, exchange func(*T) schema.Exchange) printed {
	rd, err := eventlog.Open[T, PT]([]string{path}, eventlog.Range{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	type state struct {
		first time.Time
		h     sessionPrint
	}
	live := map[string]*state{}
	out := printed{prints: map[string]uint64{}, firsts: map[string]time.Time{}, routes: map[string]float64{}}
	groups := map[[2]string]string{}
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		x := exchange(ev)
		e := &x
		s := live[e.Session]
		if s == nil {
			s = &state{first: e.Time, h: newSessionPrint()}
			live[e.Session] = s
		}
		s.h.add(e, e.Time.Sub(s.first))
		g, ok := groups[[2]string{e.Method, e.Path}]
		if !ok {
			g = report.RouteGroup(e.Method, e.Path)
			groups[[2]string{e.Method, e.Path}] = g
		}
		out.routes[g]++
	}
	for id, s := range live {
		out.prints[id] = s.h.sum()
		out.firsts[id] = s.first
	}
	normalize(out.routes)
	return out
}

// sessionPrint hashes a session's requests up to ids and a time shift:
// each request's offset from the session's first, and every field but
// the time, session and user (whether a user was known is kept).
type sessionPrint struct{ h uint64 }

func newSessionPrint() sessionPrint { return sessionPrint{h: 14695981039346656037} }

func (p *sessionPrint) add(e *schema.Exchange, offset time.Duration) {
	f := fnv.New64a()
	w := func(s string) { f.Write([]byte(s)); f.Write([]byte{0}) }
	w(strconv.FormatInt(int64(offset), 10))
	w(strconv.Itoa(int(e.Seq)))
	w(e.Method)
	w(e.Scheme)
	w(e.Host)
	w(e.Path)
	w(e.Query)
	for _, h := range e.Headers {
		w(h.Name)
		w(h.Value)
	}
	f.Write(e.Body)
	w(strconv.FormatInt(e.BodySize, 10))
	w(strconv.Itoa(e.StatusCode()))
	if e.ResponseBytes != nil {
		w(strconv.FormatInt(*e.ResponseBytes, 10))
	}
	if l, ok := e.Latency(); ok {
		w(l.String())
	}
	w(e.Region)
	w(e.Device)
	w(e.Protocol)
	w(strconv.FormatBool(e.User != ""))
	// Order matters: combine as a sequence.
	p.h = (p.h ^ f.Sum64()) * 1099511628211
}

func (p *sessionPrint) sum() uint64 { return p.h }

// sampleTarget builds the sample's profile (Build, as surge profile build
// does) and returns what Synth matches of it.
func sampleTarget(t testing.TB, capturePath string) *SynthTarget {
	t.Helper()
	p, err := Build(context.Background(), []string{capturePath}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	target, err := TargetOf(p)
	if err != nil {
		t.Fatal(err)
	}
	return target
}
