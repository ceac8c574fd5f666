// Package synth makes synthetic traffic records for benchmarks and
// memory tests: large access logs with realistic routes, user agents,
// statuses and addresses (IPv6 documentation range), deterministic by seed.
package synth

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Routes, Agents and Statuses are what synthetic records are drawn from:
// the sample platform's routes (segment and chat routes get a number
// appended), real user agents of each device class, and a status mix.
var (
	Routes = []string{
		"/api/v1/home", "/api/v1/browse/live?page=1", "/api/v1/browse/sport?page=2",
		"/api/v1/search?q=final", "/api/v1/recommendations", "/live/final-2026/manifest.m3u8",
		"/live/final-2026/seg-", "/api/v1/chat/final-2026/messages?since=", "/api/v1/heartbeat",
	}
	Agents = []string{
		"Mozilla/5.0 (SMART-TV; Linux; Tizen 6.5) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/85.0.4183.93 TV Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)",
	}
	Statuses = []int{200, 200, 200, 200, 200, 200, 200, 200, 304, 200, 200, 404, 200, 500}
)

// WriteCombined writes n lines of a combined-format access log to w: time-
// ordered, at a mean rate of rate requests per second (Poisson arrivals),
// from 20,000 clients, starting 2026-11-21 19:45 UTC.
func WriteCombined(w io.Writer, n int, seed uint64, rate float64) error {
	rng := rand.New(rand.NewPCG(seed, 0))
	bw := bufio.NewWriterSize(w, 1<<20)
	t := time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC)
	var b []byte
	for i := 0; i < n; i++ {
		t = t.Add(time.Duration(rng.ExpFloat64() / rate * float64(time.Second)))
		client := rng.IntN(20000)
		route := Routes[rng.IntN(len(Routes))]
		switch route {
		case "/live/final-2026/seg-":
			route += strconv.Itoa(int(t.Unix()/6)%100000) + ".ts"
		case "/api/v1/chat/final-2026/messages?since=":
			route += strconv.FormatInt(t.Unix()-5, 10)
		}
		user := "-"
		if client%3 != 0 {
			user = "user" + strconv.Itoa(client)
		}
		b = b[:0]
		b = fmt.Appendf(b, "2001:db8::%x - %s [%s] \"GET %s HTTP/1.1\" %d %d \"-\" \"%s\"\n",
			client, user, t.Format("02/Jan/2006:15:04:05 -0700"),
			route, Statuses[rng.IntN(len(Statuses))], 200+rng.IntN(40000), Agents[client%len(Agents)])
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}
