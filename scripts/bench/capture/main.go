// Command capture writes a synthetic Parquet capture for the replay
// benchmarks (scripts/bench.sh).
//
// By default it writes exactly rate × duration requests evenly spaced at
// rate (request i at i/rate seconds, computed from absolute times), all GET
// /bench on Host localhost, request i in session i mod -sessions (one request
// per session with -sessions 0). A session's requests are thus -sessions/rate
// seconds apart (0.14 s at 70k/s with the default 10,000), far more than the
// lean driver's 2 ms pipelining window, so a replay at --speed 1 sends a
// constant-rate schedule with no per-session pipelining, while the replay's
// memory of live sessions stays bounded:
//
//	go run ./scripts/bench/capture -rate 40000 -duration 10s -o cap-40k.parquet
//
// With -n and -realistic it writes a large capture of varied requests
// (routes, query strings, user agents, a few POSTs with JSON bodies, response
// facts) from -sessions recurring sessions, for the memory benchmark:
//
//	go run ./scripts/bench/capture -realistic -n 20000000 -rate 5000 -o big.parquet
//
// Output is deterministic for the flags.
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/internal/synth"
	"github.com/surge-replay/surge/schema"
)

// start is the capture's first request time.
var start = time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "", "output .parquet file (required)")
	rate := flag.Float64("rate", 10000, "requests per second of capture time")
	duration := flag.Duration("duration", 10*time.Second, "capture length (with -n 0)")
	n := flag.Int64("n", 0, "requests (0: rate × duration)")
	realistic := flag.Bool("realistic", false, "varied requests from -sessions recurring sessions instead of GET /bench")
	sessions := flag.Int("sessions", 10_000, "sessions the requests are spread over (0: one request per session)")
	flag.Parse()
	if *out == "" || *rate <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *n == 0 {
		*n = int64(*rate * duration.Seconds())
	}
	w, err := eventlog.Create[schema.Exchange](*out, eventlog.WriterConfig{Source: "bench"})
	if err != nil {
		log.Fatal(err)
	}
	gen := (&constant{sessions: int64(*sessions)}).next
	if *realistic {
		if *sessions <= 0 {
			*sessions = 100_000
		}
		gen = (&varied{rng: rand.New(rand.NewPCG(1, 2)), sessions: *sessions}).next
	}
	const batch = 4096
	evs := make([]schema.Exchange, 0, batch)
	for i := range *n {
		// Absolute times: request i is at i/rate exactly, with no drift.
		t := start.Add(time.Duration(float64(i) * 1e9 / *rate))
		evs = append(evs, gen(i, t))
		if len(evs) == batch {
			if err := w.Write(evs...); err != nil {
				log.Fatal(err)
			}
			evs = make([]schema.Exchange, 0, batch) // the Writer owns the last batch
		}
	}
	if err := w.Write(evs...); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "capture: %d requests at %g/s -> %s\n", *n, *rate, *out)
}

// constant makes the requests of the constant-rate capture.
type constant struct{ sessions int64 }

func (c *constant) next(i int64, t time.Time) schema.Exchange {
	s, seq := i, int64(0)
	if c.sessions > 0 {
		s, seq = i%c.sessions, i/c.sessions
	}
	return schema.Exchange{
		Time: t, Session: "s" + strconv.FormatInt(s, 10), Seq: int32(seq), Method: "GET", Scheme: "http",
		Host: "localhost", Path: "/bench", Protocol: schema.ProtoHTTP11, Source: "bench",
	}
}

var (
	devices  = []string{"tv", "mobile", "desktop", "mobile", "console"}
	regions  = []string{"eu-west", "eu-central", "us-east", "ap-south"}
	statuses = []int32{200, 200, 200, 200, 200, 200, 200, 200, 304, 200, 200, 404, 200, 500}
)

// varied makes realistic requests from recurring sessions.
type varied struct {
	rng      *rand.Rand
	sessions int
	seq      []int32
	ids      []string // session ids, made once
	users    []string // user ids ("" for anonymous sessions)
}

func (v *varied) next(i int64, t time.Time) schema.Exchange {
	if v.seq == nil {
		v.seq = make([]int32, v.sessions)
		v.ids, v.users = make([]string, v.sessions), make([]string, v.sessions)
		for c := range v.sessions {
			v.ids[c] = fmt.Sprintf("s_%016x", uint64(c)*0x9e3779b97f4a7c15)
			if c%3 != 0 {
				v.users[c] = fmt.Sprintf("u_%016x", uint64(c)*0xbf58476d1ce4e5b9)
			}
		}
	}
	c := v.rng.IntN(v.sessions)
	seq := v.seq[c]
	v.seq[c]++
	e := schema.Exchange{
		Time: t, Session: v.ids[c], User: v.users[c], Seq: seq,
		Method: "GET", Scheme: "https", Host: "www.example.com", Protocol: schema.ProtoHTTP11,
		Source: "bench", Device: devices[c%len(devices)], Region: regions[c%len(regions)],
		Status: schema.Int32(statuses[v.rng.IntN(len(statuses))]), ResponseBytes: schema.Int64(200 + v.rng.Int64N(40000)),
		LatencyNS: schema.Int64(int64(time.Millisecond) + v.rng.Int64N(int64(50*time.Millisecond))),
	}
	route := synth.Routes[v.rng.IntN(len(synth.Routes))]
	switch route {
	case "/live/final-2026/seg-":
		route += strconv.FormatInt(t.Unix()/6%100000, 10) + ".ts"
	case "/api/v1/chat/final-2026/messages?since=":
		route += strconv.FormatInt(t.Unix()-5, 10)
	}
	e.Path, e.Query = route, ""
	for j := 0; j < len(route); j++ {
		if route[j] == '?' {
			e.Path, e.Query = route[:j], route[j+1:]
			break
		}
	}
	e.Headers = []schema.Header{
		{Name: "User-Agent", Value: synth.Agents[c%len(synth.Agents)]},
		{Name: "Accept", Value: "application/json, text/plain, */*"},
		{Name: "Accept-Encoding", Value: "gzip, deflate, br"},
	}
	if v.rng.IntN(20) == 0 { // 5% POST chat messages
		e.Method = "POST"
		e.Path, e.Query = "/api/v1/chat/final-2026/messages", ""
		e.Headers = append(e.Headers, schema.Header{Name: "Content-Type", Value: "application/json"})
		e.SetBody(fmt.Appendf(nil, `{"text":"what a goal %d","client":"%x"}`, v.rng.IntN(1000), c), 0)
	}
	return e
}
