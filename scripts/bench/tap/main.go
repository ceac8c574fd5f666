// Command tap measures what surge's capture tap (capture.Tap, the engine of
// surge capture proxy) adds to a request: latency at a fixed open-loop rate
// and the maximum closed-loop throughput, against the same requests sent
// directly to the upstream and through bare httputil.ReverseProxy servers.
// The tap records to a Parquet directory in a temporary directory, cookie
// sessions, bodies on, scrubbing: it does its whole work.
//
// Two bare proxies: "bare proxy" is NewSingleHostReverseProxy with Go's
// defaults (2 idle upstream connections per host, a 32 KiB buffer allocated
// per response), "bare tuned" is a ReverseProxy with the tap's own
// transport (capture.NewTapTransport) and pooled buffers: the tap without
// recording. "tap − bare tuned" is what recording costs.
//
//	go run ./scripts/bench/tap -rate 5000 -duration 10s -runs 3
//
// runs everything in this process. With -role each part is a process of
// its own, as in production (the tap a sidecar of its own, the service
// another process), so each can be pinned (scripts/bench.sh section E):
//
//	tap -role upstream                          # prints "url http://127.0.0.1:P"
//	tap -role proxy -kind tap -upstream URL     # or -kind bare|tuned; prints "url …"
//	tap -role load -targets "targets direct=URL;bare proxy=URL;bare tuned=URL;tap=URL"
//
// -role serve runs the upstream and all proxies in one process and prints
// the targets line. Proxy processes print the time spent in the tap's own
// code and what it recorded when they stop (SIGTERM).
//
// Each run gives direct, bare tuned and tap -duration of load each, in
// segments of -segment (1 s) taken in turn, so that the machine's own
// stalls (on a shared 2-core VM the direct path's p99 moves by milliseconds
// between runs) fall on each alike; the bare proxy (Go's defaults) runs
// alone after them, as the sockets it leaves in TIME_WAIT slow what follows.
// The load prints the added p99 paired by run (tap − bare tuned and tap −
// direct in the same run, and their median) against the goal of
// 300 µs.
//
// Latency is measured from each request's intended send time (open loop: no
// coordinated omission), so a proxy that falls behind shows it. The load
// paces with absolute clock_nanosleep deadlines on a locked thread (Go's
// timers wake in ~1 ms bursts on an idle P: see ../shared PERF-NOTES and
// replay/clock_linux.go), and each measured run follows one second of
// unmeasured warm-up at the same rate, so connections are open before
// measuring. Every load is bounded by rate × duration requests and by time.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sys/unix"

	"github.com/surge-replay/surge/capture"
	"github.com/surge-replay/surge/capture/tapout"
	"github.com/surge-replay/surge/internal/procs"
)

func main() {
	rate := flag.Int("rate", 5000, "open-loop request rate, req/s")
	duration := flag.Duration("duration", 10*time.Second, "open-loop time per target in each run")
	segment := flag.Duration("segment", time.Second, "each run alternates the targets every this long")
	runs := flag.Int("runs", 3, "runs of each configuration (medians are reported)")
	workers := flag.Int("workers", 32, "closed-loop clients for the throughput runs")
	tputDur := flag.Duration("throughput-duration", 5*time.Second, "length of each throughput run")
	profile := flag.String("cpuprofile", "", "write a CPU profile to this file: of the tap's throughput runs, or with -role proxy of the proxy's whole life")
	only := flag.String("only", "", "run only this part: latency or throughput")
	role := flag.String("role", "", `"upstream", "proxy" (-kind, -upstream), "serve" (upstream and all proxies), "load" (-targets); empty: everything in this process`)
	kind := flag.String("kind", "tap", `with -role proxy: "bare" (Go defaults), "tuned" (the tap's transport and buffers, no recording) or "tap"`)
	upstreamURL := flag.String("upstream", "", "with -role proxy: the upstream's URL (loopback)")
	targetsLine := flag.String("targets", "", `the "targets …" line to load (with -role load)`)
	rowGroup := flag.Int("row-group-rows", 0, "the tap's Parquet row group size in events (tapout.ParquetConfig.RowGroupRows); 0: its default")
	window := flag.Duration("reorder-window", 0, "the tap's reorder window (capture.TapConfig.ReorderWindow); 0: its default")
	heapFile := flag.String("heapprofile", "", "with -role proxy: write a heap profile (live objects) to this file when stopped")
	traceFile := flag.String("trace", "", "write a Go execution trace of this process (runtime/trace) to this file")
	flag.Parse()
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			log.Fatal(err)
		}
		if err := trace.Start(f); err != nil {
			log.Fatal(err)
		}
		defer trace.Stop()
	}
	if *rate <= 0 || *rate > 50000 || *duration <= 0 || *duration > 5*time.Minute || *segment < 100*time.Millisecond {
		log.Fatal("tap: -rate in (0, 50000], -duration in (0, 5m], -segment at least 100ms")
	}

	switch *role {
	case "load":
		targets, err := parseTargets(*targetsLine)
		if err != nil {
			log.Fatal(err)
		}
		if *only != "throughput" {
			latencyRuns(targets, *rate, *duration, *segment, *runs, nil)
		}
		if *only != "latency" {
			throughputRuns(targets, *workers, *tputDur, *runs, "")
		}
		return
	case "upstream":
		fmt.Println("url", serve(upstream()))
		waitSignal()
		return
	case "proxy":
		up, err := url.Parse(*upstreamURL)
		if err != nil || !strings.HasPrefix(up.Host, "127.") {
			log.Fatalf("tap: -upstream %q: want http://127.x.x.x:PORT", *upstreamURL)
		}
		var h http.Handler
		var stop func()
		switch *kind {
		case "bare":
			h = httputil.NewSingleHostReverseProxy(up)
		case "tuned":
			capture.SetTapGC() // the tap's GOGC: the comparison isolates recording
			h = tunedProxy(up)
		case "tap":
			capture.SetTapGC() // as surge capture proxy runs
			var reg *prometheus.Registry
			h, reg, stop = newTap(up, *window, *rowGroup)
			defer func() {
				fmt.Printf("time in the tap's own code (surge_capture_added_latency_seconds, all runs): %s\n", addedHistogram(reg))
				fmt.Printf("stop-the-world pauses of the tap process: %s\n", pauses())
			}()
		default:
			log.Fatalf("tap: -kind %q: want bare, tuned or tap", *kind)
		}
		if *profile != "" {
			f, err := os.Create(*profile)
			if err != nil {
				log.Fatal(err)
			}
			pprof.StartCPUProfile(f)
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
		fmt.Println("url", serve(h))
		waitSignal()
		if *heapFile != "" {
			f, err := os.Create(*heapFile)
			if err != nil {
				log.Fatal(err)
			}
			runtime.GC()
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
		if stop != nil {
			stop()
		}
		return
	case "", "serve":
	default:
		log.Fatalf("tap: -role %q: want upstream, proxy, serve or load", *role)
	}

	upstream := serve(upstream())
	upURL, _ := url.Parse(upstream)
	bare := serve(httputil.NewSingleHostReverseProxy(upURL))
	tuned := serve(tunedProxy(upURL))
	tap, reg, stop := newTap(upURL, *window, *rowGroup)
	tapped := serve(tap)

	targets := []target{{"direct", upstream}, {"bare proxy", bare}, {"bare tuned", tuned}, {"tap", tapped}}
	if *role == "serve" {
		fmt.Println(formatTargets(targets))
		waitSignal()
		fmt.Printf("time in the tap's own code (surge_capture_added_latency_seconds, all runs): %s\n", addedHistogram(reg))
	} else if *only != "throughput" {
		latencyRuns(targets, *rate, *duration, *segment, *runs, reg)
	}
	if *only != "latency" && *role != "serve" {
		throughputRuns(targets, *workers, *tputDur, *runs, *profile)
	}
	stop()
}

// upstream is the service behind the proxies: it reads the body and answers
// a small JSON document at once.
func upstream() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true,"items":[1,2,3,4,5,6,7,8,9,10],"note":"a small JSON answer of about a hundred bytes"}`)
	})
}

// tunedProxy is a ReverseProxy set up as the tap's own (same transport,
// pooled copy buffers, same rewrite) that records nothing.
func tunedProxy(up *url.URL) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		Transport:  capture.NewTapTransport(),
		BufferPool: &pool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}},
	}
}

// newTap returns a tap in front of up recording to a Parquet directory in a
// temporary directory, its metrics, and the function that closes it and
// prints what it recorded.
func newTap(up *url.URL, window time.Duration, rowGroup int) (http.Handler, *prometheus.Registry, func()) {
	dir, err := os.MkdirTemp("", "surge-tap-bench-*")
	if err != nil {
		log.Fatal(err)
	}
	out, err := tapout.OpenParquet(dir, tapout.ParquetConfig{RowGroupRows: rowGroup})
	if err != nil {
		log.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	tap, err := capture.NewTap(capture.TapConfig{
		Upstream: up, Output: out, Metrics: capture.NewTapMetrics(reg),
		Session: capture.SessionKey{Kind: "cookie", Name: "sid"},
		Routes:  []capture.TapRoute{{Prefix: "/"}},
		Scrub:   capture.ScrubConfig{Key: []byte("bench-key")},

		ReorderWindow: window,
	})
	if err != nil {
		log.Fatal(err)
	}
	return tap, reg, func() {
		defer os.RemoveAll(dir)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := tap.Close(ctx); err != nil {
			log.Fatal(err)
		}
		l := tap.Loss()
		fmt.Printf("tap recorded %d exchanges, dropped %d (%v)\n", l.Exchanges, l.Dropped, l.DroppedBy)
	}
}

// waitSignal returns on SIGTERM or an interrupt.
func waitSignal() {
	os.Stdout.Sync()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
}

type target struct{ name, url string }

// formatTargets is the line a serve process prints: "targets NAME=URL;…".
func formatTargets(ts []target) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, t.name+"="+t.url)
	}
	return "targets " + strings.Join(parts, ";")
}

// parseTargets reads formatTargets' line; its URLs must be loopback.
func parseTargets(line string) ([]target, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "targets ")
	if !ok {
		return nil, fmt.Errorf("tap: -targets %q: want the \"targets …\" line of -role serve", line)
	}
	var ts []target
	for _, p := range strings.Split(rest, ";") {
		name, u, ok := strings.Cut(p, "=")
		pu, err := url.Parse(u)
		if !ok || err != nil || !strings.HasPrefix(pu.Host, "127.") {
			return nil, fmt.Errorf("tap: -targets: %q: want NAME=http://127.x.x.x:PORT", p)
		}
		ts = append(ts, target{name, u})
	}
	for _, want := range []string{"direct", "bare proxy", "bare tuned", "tap"} {
		if !slices.ContainsFunc(ts, func(t target) bool { return t.name == want }) {
			return nil, fmt.Errorf("tap: -targets: no %q", want)
		}
	}
	return ts, nil
}

func latencyRuns(targets []target, rate int, duration, segment time.Duration, runs int, reg *prometheus.Registry) {
	fmt.Printf("open loop, %d req/s for %v per target, %d runs; each run alternates direct, bare tuned and tap every %v (a paired design: the machine's own stalls fall on each alike), then the bare proxy runs alone; latency from the intended send time\n\n",
		rate, duration, runs, segment)
	// The bare proxy with Go's defaults opens an upstream connection for
	// most requests at this rate, and the sockets it leaves in TIME_WAIT
	// slow whatever runs next: it is measured after the paired runs.
	var paired, alone []target
	for _, tg := range targets {
		if tg.name == "bare proxy" {
			alone = append(alone, tg)
		} else {
			paired = append(paired, tg)
		}
	}
	lat := map[string][][3]time.Duration{} // name → runs of p50, p99, p999
	record := func(run int, r loopResult) {
		lat[r.name] = append(lat[r.name], r.pcts)
		fmt.Printf("run %d %-10s sent %d, errors %d, p50 %v p99 %v p99.9 %v max %v\n",
			run+1, r.name, r.sent, r.errors, r.pcts[0], r.pcts[1], r.pcts[2], r.max)
	}
	for run := range runs {
		for _, r := range interleaved(paired, rate, duration, segment) {
			record(run, r)
		}
	}
	for run := range runs {
		for _, r := range interleaved(alone, rate, duration, duration) {
			record(run, r)
		}
	}
	med := func(name string, i int) time.Duration {
		var v []time.Duration
		for _, r := range lat[name] {
			v = append(v, r[i])
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	fmt.Printf("\n| path | p50 | p99 | p99.9 | p50 added vs direct | p99 added vs direct | p99 added vs bare proxy | p99 added vs bare tuned |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, tg := range targets {
		fmt.Printf("| %s | %v | %v | %v | %v | %v | %v | %v |\n", tg.name, med(tg.name, 0), med(tg.name, 1), med(tg.name, 2),
			med(tg.name, 0)-med("direct", 0), med(tg.name, 1)-med("direct", 1), med(tg.name, 1)-med("bare proxy", 1), med(tg.name, 1)-med("bare tuned", 1))
	}
	// Within a run every target met the machine's same stalls (their
	// segments alternate), so the comparison is the difference in each run,
	// and the result the median of those differences.
	fmt.Printf("\np99 added at %d req/s, paired by run (tap − X in the same run; median of the runs):\n", rate)
	for _, base := range []string{"bare tuned", "direct"} {
		var d []time.Duration
		for i := range lat["tap"] {
			d = append(d, lat["tap"][i][1]-lat[base][i][1])
		}
		m := slices.Clone(d)
		slices.Sort(m)
		verdict := "within the 300µs goal"
		if m[len(m)/2] > 300*time.Microsecond {
			verdict = "over the 300µs goal"
		}
		fmt.Printf("  tap − %-10s median %v (%s); runs %v\n", base+":", m[len(m)/2], verdict, d)
	}
	fmt.Printf("direct p99 across runs: %v (how much the machine moves between runs)\n", pcts(lat["direct"], 1))
	if reg != nil {
		fmt.Printf("\ntime in the tap's own code (surge_capture_added_latency_seconds, all runs): %s\n", addedHistogram(reg))
	}
}

// pcts lists one percentile (index i) of each run.
func pcts(runs [][3]time.Duration, i int) []time.Duration {
	var v []time.Duration
	for _, r := range runs {
		v = append(v, r[i])
	}
	return v
}

func throughputRuns(targets []target, workers int, tputDur time.Duration, runs int, profile string) {

	fmt.Printf("\nclosed loop, %d clients for %v, %d runs each (interleaved)\n", workers, tputDur, runs)
	tput := map[string][]float64{}
	for range runs {
		for _, tg := range targets[1:] {
			tput[tg.name] = append(tput[tg.name], closedLoop(tg.url, workers, tputDur))
		}
	}
	medf := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	fmt.Printf("| path | req/s (median) | runs |\n| --- | ---: | --- |\n")
	for _, tg := range targets[1:] {
		fmt.Printf("| %s | %.0f | %v |\n", tg.name, medf(slices.Clone(tput[tg.name])), round(tput[tg.name]))
	}
	tp := medf(tput["tap"])
	fmt.Printf("\ntap throughput = %.1f%% of the bare proxy (Go defaults), %.1f%% of the bare tuned proxy (the tap's transport, no recording)\n",
		100*tp/medf(tput["bare proxy"]), 100*tp/medf(tput["bare tuned"]))
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		closedLoop(targets[len(targets)-1].url, workers, tputDur)
		pprof.StopCPUProfile()
		f.Close()
	}
}

type pool struct{ p sync.Pool }

func (b *pool) Get() []byte  { return *b.p.Get().(*[]byte) }
func (b *pool) Put(v []byte) { b.p.Put(&v) }

func round(v []float64) []int {
	var r []int
	for _, x := range v {
		r = append(r, int(x))
	}
	return r
}

// serve starts a loopback server and returns its URL.
func serve(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, h)
	return "http://" + ln.Addr().String()
}

func client(conns int) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute,
	}}
}

type loopResult struct {
	name         string
	sent, errors int64
	pcts         [3]time.Duration
	max          time.Duration
}

// interleaved sends rate req/s to each target for d in all, in segments of
// segment that take the targets in turn (each round starting one target
// later), after one second of unmeasured warm-up per target, so
// connections are open before measuring. Each request's latency runs from
// its intended time; a target's segments share one histogram.
func interleaved(targets []target, rate int, d, segment time.Duration) []loopResult {
	segment = min(segment, d)
	clients := make([]*http.Client, len(targets))
	hists := make([]*hdrhistogram.Histogram, len(targets))
	res := make([]loopResult, len(targets))
	for i, tg := range targets {
		clients[i] = client(512)
		defer clients[i].CloseIdleConnections()
		paced(clients[i], tg.url, rate, time.Second, nil)
		hists[i] = hdrhistogram.New(1, int64(30*time.Second), 3)
		res[i].name = tg.name
	}
	for round := 0; time.Duration(round)*segment < d; round++ {
		seg := min(segment, d-time.Duration(round)*segment)
		for k := range targets {
			i := (round + k) % len(targets)
			sent, errs := paced(clients[i], targets[i].url, rate, seg, hists[i])
			res[i].sent += sent
			res[i].errors += errs
		}
	}
	for i, h := range hists {
		q := func(p float64) time.Duration { return time.Duration(h.ValueAtQuantile(p)) }
		res[i].pcts = [3]time.Duration{q(50), q(99), q(99.9)}
		res[i].max = time.Duration(h.Max())
	}
	return res
}

// paced sends rate × d requests at their intended times, spread over 256
// senders, and records each latency from its intended time into h (nil: not
// recorded). It returns the requests sent and the failures.
func paced(c *http.Client, target string, rate int, d time.Duration, h *hdrhistogram.Histogram) (sent, errors int64) {
	n := int(float64(rate) * d.Seconds())
	var mu sync.Mutex
	var errs atomic.Int64
	due := make(chan time.Time, 4096)
	var wg sync.WaitGroup
	for range 256 {
		wg.Go(func() {
			for at := range due {
				ok := get(c, target, at.UnixNano())
				lat := time.Since(at)
				if !ok {
					errs.Add(1)
				}
				if h != nil {
					mu.Lock()
					h.RecordValue(int64(lat))
					mu.Unlock()
				}
			}
		})
	}
	// The pacer's thread sleeps in clock_nanosleep, which keeps its P: one
	// P more, so the senders keep theirs (internal/procs).
	defer procs.Reserve(1)()
	wg.Go(func() {
		defer close(due)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		start, startMono := time.Now(), monotonic()
		interval := time.Second / time.Duration(rate)
		for i := range n {
			off := time.Duration(i) * interval
			sleepUntil(startMono + int64(off))
			due <- start.Add(off)
		}
	})
	wg.Wait()
	return int64(n), errs.Load()
}

// monotonic reads CLOCK_MONOTONIC, ns: the clock of Go's monotonic readings.
func monotonic() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// sleepUntil sleeps to an absolute CLOCK_MONOTONIC deadline (ns).
func sleepUntil(deadline int64) {
	ts := unix.NsecToTimespec(deadline)
	for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil) == unix.EINTR {
	}
}

// closedLoop runs workers clients back to back for d and returns req/s.
func closedLoop(target string, workers int, d time.Duration) float64 {
	c := client(workers)
	var done atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				if get(c, target, int64(w)<<32|int64(i)) {
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	c.CloseIdleConnections()
	return float64(done.Load()) / d.Seconds()
}

// get sends one request like an app's: a session cookie, a query, a small
// JSON body on one in four.
func get(c *http.Client, target string, i int64) bool {
	var body io.Reader
	method := "GET"
	if i%4 == 0 {
		method, body = "POST", strings.NewReader(`{"item":42,"qty":1}`)
	}
	req, _ := http.NewRequest(method, fmt.Sprintf("%s/api/v1/items/%d?page=%d", target, i%1000, i%7), body)
	req.Header.Set("Cookie", fmt.Sprintf("sid=s%d", i%500))
	req.Header.Set("User-Agent", "bench/1")
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == 200
}

// pauses summarizes this process's stop-the-world pauses (runtime/metrics,
// from the stop request to the world running again): for collections and
// for the rest (GOMAXPROCS changes among them).
func pauses() string {
	ss := []metrics.Sample{{Name: "/sched/pauses/total/gc:seconds"}, {Name: "/sched/pauses/total/other:seconds"}}
	metrics.Read(ss)
	var parts []string
	for _, s := range ss {
		h := s.Value.Float64Histogram()
		var n uint64
		for _, c := range h.Counts {
			n += c
		}
		at := func(q float64) string {
			var seen uint64
			for i, c := range h.Counts {
				if seen += c; c > 0 && float64(seen) >= q*float64(n) {
					return time.Duration(h.Buckets[i+1] * 1e9).String()
				}
			}
			return "-"
		}
		name := strings.TrimSuffix(strings.TrimPrefix(s.Name, "/sched/pauses/total/"), ":seconds")
		parts = append(parts, fmt.Sprintf("%s %d, p50 ≤ %s, p99 ≤ %s, max ≤ %s", name, n, at(0.5), at(0.99), at(1)))
	}
	return strings.Join(parts, "; ")
}

// addedHistogram summarizes the tap's added-latency histogram: the share
// of requests under each bucket bound up to 300 µs and the estimated p50/p99.
func addedHistogram(reg *prometheus.Registry) string {
	mfs, err := reg.Gather()
	if err != nil {
		return err.Error()
	}
	for _, mf := range mfs {
		if mf.GetName() != "surge_capture_added_latency_seconds" {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		return fmt.Sprintf("%d requests, p50 ≤ %s, p99 ≤ %s", h.GetSampleCount(), bucketAt(h, 0.5), bucketAt(h, 0.99))
	}
	return "none"
}

func bucketAt(h *dto.Histogram, q float64) string {
	want := uint64(q * float64(h.GetSampleCount()))
	for _, b := range h.GetBucket() {
		if b.GetCumulativeCount() >= want {
			return time.Duration(b.GetUpperBound() * 1e9).String()
		}
	}
	return "> last bucket"
}
