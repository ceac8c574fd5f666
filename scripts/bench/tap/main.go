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
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surge-replay/surge/capture"
	"github.com/surge-replay/surge/capture/tapout"
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
	nice := flag.Int("recorder-nice", 0, "the nice value of the tap's recorder thread (capture.TapConfig.RecorderNice); 0: its default")
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
			h, reg, stop = newTap(up, capture.TapConfig{ReorderWindow: *window, RecorderNice: *nice}, *rowGroup)
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
	tap, reg, stop := newTap(upURL, capture.TapConfig{ReorderWindow: *window, RecorderNice: *nice}, *rowGroup)
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
// prints what it recorded. cfg gives the tap's flags (ReorderWindow,
// RecorderNice); newTap sets the rest.
func newTap(up *url.URL, cfg capture.TapConfig, rowGroup int) (http.Handler, *prometheus.Registry, func()) {
	dir, err := os.MkdirTemp("", "surge-tap-bench-*")
	if err != nil {
		log.Fatal(err)
	}
	out, err := tapout.OpenParquet(dir, tapout.ParquetConfig{RowGroupRows: rowGroup})
	if err != nil {
		log.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	cfg.Upstream, cfg.Output, cfg.Metrics = up, out, capture.NewTapMetrics(reg)
	cfg.Session = capture.SessionKey{Kind: "cookie", Name: "sid"}
	cfg.Routes = []capture.TapRoute{{Prefix: "/"}}
	cfg.Scrub = capture.ScrubConfig{Key: []byte("bench-key")}
	tap, err := capture.NewTap(cfg)
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

type pool struct{ p sync.Pool }

func (b *pool) Get() []byte  { return *b.p.Get().(*[]byte) }
func (b *pool) Put(v []byte) { b.p.Put(&v) }

// serve starts a loopback server and returns its URL.
func serve(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, h)
	return "http://" + ln.Addr().String()
}
