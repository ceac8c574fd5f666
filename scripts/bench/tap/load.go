package main

// The load: open-loop latency in paired runs and closed-loop throughput,
// against the targets of a "targets …" line.

import (
	"cmp"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"

	"github.com/surge-replay/surge/internal/procs"
)

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
	med := func(name string, i int) time.Duration { return median(pcts(lat[name], i)) }
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
		m, d := pairedP99(lat, "tap", base)
		verdict := "within the 300µs goal"
		if m > 300*time.Microsecond {
			verdict = "over the 300µs goal"
		}
		fmt.Printf("  tap − %-10s median %v (%s); runs %v\n", base+":", m, verdict, d)
	}
	// Extra NAME=URL targets (another build of the tap, say) against the
	// same bases and the tap, paired the same way.
	for _, tg := range paired {
		if slices.Contains([]string{"direct", "bare tuned", "tap"}, tg.name) {
			continue
		}
		for _, base := range []string{"tap", "bare tuned"} {
			m, d := pairedP99(lat, tg.name, base)
			fmt.Printf("  %s − %-10s median %v; runs %v\n", tg.name, base+":", m, d)
		}
	}
	fmt.Printf("direct p99 across runs: %v (how much the machine moves between runs)\n", pcts(lat["direct"], 1))
	if reg != nil {
		fmt.Printf("\ntime in the tap's own code (surge_capture_added_latency_seconds, all runs): %s\n", addedHistogram(reg))
	}
}

// pairedP99 returns the differences of p99 (a − b) in each run and their
// median.
func pairedP99(lat map[string][][3]time.Duration, a, b string) (time.Duration, []time.Duration) {
	var d []time.Duration
	for i := range lat[a] {
		d = append(d, lat[a][i][1]-lat[b][i][1])
	}
	return median(d), d
}

// pcts lists one percentile (index i) of each run.
func pcts(runs [][3]time.Duration, i int) []time.Duration {
	var v []time.Duration
	for _, r := range runs {
		v = append(v, r[i])
	}
	return v
}

// median returns the middle value of v (the upper one of an even count),
// leaving v as it is.
func median[T cmp.Ordered](v []T) T {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

func throughputRuns(targets []target, workers int, tputDur time.Duration, runs int, profile string) {
	fmt.Printf("\nclosed loop, %d clients for %v, %d runs each (interleaved)\n", workers, tputDur, runs)
	tput := map[string][]float64{}
	for range runs {
		for _, tg := range targets[1:] {
			tput[tg.name] = append(tput[tg.name], closedLoop(tg.url, workers, tputDur))
		}
	}
	fmt.Printf("| path | req/s (median) | runs |\n| --- | ---: | --- |\n")
	for _, tg := range targets[1:] {
		fmt.Printf("| %s | %.0f | %v |\n", tg.name, median(tput[tg.name]), round(tput[tg.name]))
	}
	tp := median(tput["tap"])
	fmt.Printf("\ntap throughput = %.1f%% of the bare proxy (Go defaults), %.1f%% of the bare tuned proxy (the tap's transport, no recording)\n",
		100*tp/median(tput["bare proxy"]), 100*tp/median(tput["bare tuned"]))
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

func round(v []float64) []int {
	var r []int
	for _, x := range v {
		r = append(r, int(x))
	}
	return r
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
