package replay

import (
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/capture"
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// The field cases of testdata/field-cases (copied from the shared folder;
// see its README): each capture is imported as surge import does (JSON lines,
// scrubbed), written to Parquet and read back through the replay projection,
// shaped, and replayed against a rawRecording server on 127.0.0.1 with every
// driver.

// importCase imports testdata/field-cases/<name>/capture.jsonl into a
// Parquet file and returns its path.
func importCase(t *testing.T, name string) string {
	t.Helper()
	in := filepath.Join("testdata", "field-cases", name, "capture.jsonl")
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := filepath.Join(t.TempDir(), name+".parquet")
	sink, err := eventlog.CreateSink[schema.Exchange](out, eventlog.WriterConfig{Source: "jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	opts := capture.Options{Scrub: capture.ScrubConfig{Key: []byte("field-case-key")}}
	_, err = capture.Import(context.Background(), []capture.Input{{Name: in, Decode: capture.NewJSONLDecoder(f, in)}}, opts,
		func(e *schema.Exchange) error { return sink.Add(e) })
	if err != nil {
		sink.Abort()
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// shape returns the schedule of the capture at path, as surge replay reads
// it (the RequestLine projection).
func shape(t *testing.T, path string, cfg shaper.Config) *shaper.Shaper {
	t.Helper()
	open := func() (shaper.Source, error) {
		rd, err := eventlog.Open[schema.RequestLine]([]string{path}, eventlog.Range{})
		if err != nil {
			return nil, err
		}
		return func() (*schema.Exchange, error) {
			l, err := rd.Next()
			if err != nil {
				rd.Close()
				return nil, err
			}
			ev := l.Exchange()
			return &ev, nil
		}, nil
	}
	if cfg.Speed == 0 {
		cfg.Speed = 1
	}
	if cfg.Ratio == nil {
		cfg.Ratio = shaper.Constant(1)
	}
	sh, err := shaper.New(cfg, open)
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// rawArrival is one request as a rawRecording server saw it.
type rawArrival struct {
	at      time.Time
	method  string
	target  string          // the raw request target, byte-exact
	headers []schema.Header // in order, names as sent
	body    []byte
}

func (a *rawArrival) header(name string) (string, bool) {
	for _, h := range a.headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// rawRecording is a raw HTTP/1.1 server on 127.0.0.1 that logs every request
// (rawArrival time, method, raw target, headers in order, body) and answers
// after delay. It parses requests itself, so nothing is normalized.
type rawRecording struct {
	mu       sync.Mutex
	arrivals []rawArrival
	delay    time.Duration
}

func newRawRecording(t *testing.T, delay time.Duration) (*rawRecording, *url.URL) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &rawRecording{delay: delay}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); rec.serve(c) }()
		}
	}()
	return rec, &url.URL{Scheme: "http", Host: ln.Addr().String()}
}

func (rec *rawRecording) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	rd := newLineReader(c)
	for {
		line, err := rd.line()
		if err != nil {
			return
		}
		a := rawArrival{at: time.Now()}
		parts := strings.SplitN(line, " ", 3)
		if len(parts) != 3 {
			return
		}
		a.method, a.target = parts[0], parts[1]
		n := 0
		for {
			h, err := rd.line()
			if err != nil {
				return
			}
			if h == "" {
				break
			}
			name, value, _ := strings.Cut(h, ":")
			a.headers = append(a.headers, schema.Header{Name: name, Value: strings.TrimSpace(value)})
			if strings.EqualFold(name, "Content-Length") {
				n = atoiOr(strings.TrimSpace(value), 0)
			}
		}
		a.body = make([]byte, n)
		if _, err := io.ReadFull(rd, a.body); err != nil {
			return
		}
		rec.mu.Lock()
		rec.arrivals = append(rec.arrivals, a)
		rec.mu.Unlock()
		time.Sleep(rec.delay)
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil {
			return
		}
	}
}

func (rec *rawRecording) all() []rawArrival {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.arrivals)
}

// lineReader reads CRLF lines and then raw bytes from a connection.
type lineReader struct {
	c   net.Conn
	buf []byte
}

func newLineReader(c net.Conn) *lineReader { return &lineReader{c: c} }

func (r *lineReader) fill() error {
	b := make([]byte, 64<<10)
	n, err := r.c.Read(b)
	r.buf = append(r.buf, b[:n]...)
	if n > 0 {
		return nil
	}
	return err
}

func (r *lineReader) line() (string, error) {
	for {
		if i := strings.Index(string(r.buf), "\r\n"); i >= 0 {
			l := string(r.buf[:i])
			r.buf = r.buf[i+2:]
			return l, nil
		}
		if err := r.fill(); err != nil {
			return "", err
		}
	}
}

func (r *lineReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func atoiOr(s string, def int) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return def
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// replayCase runs sched against target with driver and returns the results.
func replayCase(t *testing.T, cfg Config, driver string, sched Schedule) ([]schema.Result, *Stats) {
	t.Helper()
	cfg.Driver = driver
	cfg.Timeout = 10 * time.Second
	if !leanSupported && driver == DriverLean {
		t.Skip("lean driver needs Linux")
	}
	var mu sync.Mutex
	var results []schema.Result
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := Run(ctx, cfg, sched, nil, func(r *schema.Result) {
		mu.Lock()
		results = append(results, *r)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	return results, st
}
