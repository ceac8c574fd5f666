package eventlog_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// benchEvents is the size of the capture the scan benchmarks read: about
// what a busy hour of one edge node holds.
const benchEvents = 1_000_000

// BenchmarkScanRequestLine reads a capture of realistic exchanges into
// schema.RequestLine, the projection a replay reads (no response
// facts), and reports events/s. Run it with
//
//	go test -run '^$' -bench Scan -benchtime 3x ./eventlog
func BenchmarkScanRequestLine(b *testing.B) {
	benchScan[schema.RequestLine](b)
}

// BenchmarkScanExchange reads the same capture into the full schema.Exchange,
// for comparison.
func BenchmarkScanExchange(b *testing.B) {
	benchScan[schema.Exchange](b)
}

func benchScan[T any, PT interface {
	*T
	schema.Event
}](b *testing.B) {
	path := writeBenchCapture(b, benchEvents)
	b.ReportAllocs()
	for b.Loop() {
		r, err := eventlog.Open[T, PT]([]string{path}, eventlog.Range{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		r.Close()
		if n != benchEvents {
			b.Fatalf("read %d events; want %d", n, benchEvents)
		}
	}
	b.ReportMetric(float64(benchEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(benchEvents)/float64(b.N), "ns/event")
}

// writeBenchCapture writes n realistic exchanges to a file in b.TempDir:
// once per benchmark run (b.Loop runs the function body once), not per
// iteration.
func writeBenchCapture(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "capture.parquet")
	w, err := eventlog.Create[schema.Exchange](path, eventlog.WriterConfig{Source: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	g := newBenchGen(20_000)
	batch := make([]schema.Exchange, 0, 4096)
	for i := range n {
		batch = append(batch, g.next(i))
		if len(batch) == cap(batch) || i == n-1 {
			if err := w.Write(batch...); err != nil {
				b.Fatal(err)
			}
			batch = make([]schema.Exchange, 0, 4096) // the Writer owns the last batch
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// benchGen makes what an imported access log holds: keyed-hash session and
// user ids, a handful of routes with numeric parts and query strings, user
// agents, a few POSTs with JSON bodies, status and size, ≈ 5,000 events/s
// with exponential gaps.
type benchGen struct {
	rng   *rand.Rand
	t     time.Time
	ids   []string
	users []string
	seq   []int32
}

var (
	benchRoutes = []string{
		"/api/v1/home", "/api/v1/browse/live?page=1", "/api/v1/browse/sport?page=2",
		"/api/v1/search?q=final", "/api/v1/recommendations", "/live/final-2026/manifest.m3u8",
		"/live/final-2026/seg-", "/api/v1/chat/final-2026/messages?since=", "/api/v1/heartbeat",
	}
	benchAgents = []string{
		"Mozilla/5.0 (SMART-TV; Linux; Tizen 6.5) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/85.0.4183.93 TV Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)",
	}
	benchDevices  = []string{"tv", "mobile", "desktop", "mobile", "console"}
	benchStatuses = []int32{200, 200, 200, 200, 200, 200, 200, 200, 304, 200, 200, 404, 200, 500}
)

func newBenchGen(sessions int) *benchGen {
	g := &benchGen{
		rng: rand.New(rand.NewPCG(1, 2)), t: time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC),
		ids: make([]string, sessions), users: make([]string, sessions), seq: make([]int32, sessions),
	}
	for c := range sessions {
		g.ids[c] = fmt.Sprintf("s_%016x", uint64(c)*0x9e3779b97f4a7c15)
		if c%3 != 0 {
			g.users[c] = fmt.Sprintf("u_%016x", uint64(c)*0xbf58476d1ce4e5b9)
		}
	}
	return g
}

func (g *benchGen) next(i int) schema.Exchange {
	g.t = g.t.Add(time.Duration(g.rng.ExpFloat64() / 5000 * float64(time.Second)))
	c := g.rng.IntN(len(g.ids))
	e := schema.Exchange{
		Time: g.t, Session: g.ids[c], User: g.users[c], Seq: g.seq[c],
		Method: "GET", Scheme: "https", Host: "www.example.com",
		Protocol: schema.ProtoHTTP11, Source: "combined", Device: benchDevices[c%len(benchDevices)],
		Status:        schema.Int32(benchStatuses[g.rng.IntN(len(benchStatuses))]),
		ResponseBytes: schema.Int64(200 + g.rng.Int64N(40000)),
	}
	g.seq[c]++
	route := benchRoutes[g.rng.IntN(len(benchRoutes))]
	switch route {
	case "/live/final-2026/seg-":
		route += strconv.FormatInt(g.t.Unix()/6%100000, 10) + ".ts"
	case "/api/v1/chat/final-2026/messages?since=":
		route += strconv.FormatInt(g.t.Unix()-5, 10)
	}
	e.Path = route
	for j := 0; j < len(route); j++ {
		if route[j] == '?' {
			e.Path, e.Query = route[:j], route[j+1:]
			break
		}
	}
	e.Headers = []schema.Header{{Name: "User-Agent", Value: benchAgents[c%len(benchAgents)]}}
	if i%20 == 0 { // 5% POST chat messages with a small JSON body
		e.Method, e.Path, e.Query = "POST", "/api/v1/chat/final-2026/messages", ""
		e.Headers = append(e.Headers, schema.Header{Name: "Content-Type", Value: "application/json"})
		e.SetBody(fmt.Appendf(nil, `{"text":"what a goal %d","client":"%x"}`, g.rng.IntN(1000), c), 0)
	}
	return e
}
