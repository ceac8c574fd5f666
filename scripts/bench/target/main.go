// Command target is the minimal loopback HTTP server the replay benchmarks
// (scripts/bench.sh) send traffic to: every request is answered 200 with a
// 200-byte body, and its arrival time (monotonic, ns since the server
// started) is recorded in a preallocated array, so the benchmark can see the
// load as the target saw it: the achieved arrival rate and how evenly the
// requests arrived.
//
//	GOMAXPROCS=1 taskset -c 0 go run ./scripts/bench/target -addr 127.0.0.1:0 -port-file port
//
// Side endpoints (not recorded):
//
//	/__reset           forget the arrivals (before each run)
//	/__stats?rate=R    JSON: arrivals, achieved rate and the gap error, over
//	                   the arrivals without the first and last 5% (ramp)
//	/__dump?file=PATH  write the arrival times, one ns value a line
//
// The server listens on loopback only, and records at most -max arrivals
// (later ones are answered and counted, not recorded).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// recorder keeps arrival times in a fixed array: one atomic add and one
// store per request, no allocation, no lock.
type recorder struct {
	base time.Time // monotonic reading at start
	at   []int64   // ns since base
	n    atomic.Int64
}

func (r *recorder) record() {
	ns := int64(time.Since(r.base))
	if i := r.n.Add(1) - 1; i < int64(len(r.at)) {
		r.at[i] = ns
	}
}

// arrivals returns a sorted copy of the recorded times and the total count
// (recorded or not).
func (r *recorder) arrivals() ([]int64, int64) {
	n := r.n.Load()
	a := slices.Clone(r.at[:min(n, int64(len(r.at)))])
	slices.Sort(a) // handlers of different connections may store out of order
	return a, n
}

// Stats describes the arrivals of one run.
type Stats struct {
	Arrivals    int64   `json:"arrivals"`     // every request, recorded or not
	Recorded    int     `json:"recorded"`     // arrival times kept
	Used        int     `json:"used"`         // arrivals in the middle 90%
	AchievedRPS float64 `json:"achieved_rps"` // (used − 1) / their time span
	IdealGapUS  float64 `json:"ideal_gap_us"` // 1e6 / rate
	GapErrP50US float64 `json:"gap_err_p50_us"`
	GapErrP99US float64 `json:"gap_err_p99_us"` // p99 of |gap − ideal gap|
	GapErrMaxUS float64 `json:"gap_err_max_us"`
}

// stats computes Stats over the arrivals without the first and last skip
// fraction; rate is the intended rate (0: gap errors are not computed).
func stats(a []int64, total int64, rate, skip float64) Stats {
	s := Stats{Arrivals: total, Recorded: len(a)}
	cut := int(float64(len(a)) * skip)
	mid := a[cut : len(a)-cut]
	s.Used = len(mid)
	if len(mid) < 2 {
		return s
	}
	span := float64(mid[len(mid)-1] - mid[0])
	if span > 0 {
		s.AchievedRPS = float64(len(mid)-1) / span * 1e9
	}
	if rate <= 0 {
		return s
	}
	ideal := 1e9 / rate
	s.IdealGapUS = ideal / 1e3
	errs := make([]float64, len(mid)-1)
	for i := 1; i < len(mid); i++ {
		errs[i-1] = math.Abs(float64(mid[i]-mid[i-1]) - ideal)
	}
	slices.Sort(errs)
	q := func(p float64) float64 { return errs[int(p*float64(len(errs)-1))] / 1e3 }
	s.GapErrP50US, s.GapErrP99US, s.GapErrMaxUS = q(0.50), q(0.99), errs[len(errs)-1]/1e3
	return s
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	portFile := flag.String("port-file", "", "write the port chosen to this file")
	max := flag.Int("max", 4_000_000, "arrival times kept at most")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		log.Fatalf("target: %s is not a loopback address", ip)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if *portFile != "" {
		if err := os.WriteFile(*portFile, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}

	rec := &recorder{base: time.Now(), at: make([]int64, *max)}
	// Touch the array so its pages are resident before the first run.
	for i := range rec.at {
		rec.at[i] = 0
	}
	body := make([]byte, 200)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	bodyLen := strconv.Itoa(len(body))

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rec.record()
		h := w.Header()
		h["Content-Type"] = []string{"text/plain"}
		h["Content-Length"] = []string{bodyLen}
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	})
	mux.HandleFunc("/__reset", func(w http.ResponseWriter, r *http.Request) {
		rec.n.Store(0)
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/__stats", func(w http.ResponseWriter, r *http.Request) {
		rate, _ := strconv.ParseFloat(r.URL.Query().Get("rate"), 64)
		a, total := rec.arrivals()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(stats(a, total, rate, 0.05))
	})
	mux.HandleFunc("/__dump", func(w http.ResponseWriter, r *http.Request) {
		a, _ := rec.arrivals()
		if err := dump(r.URL.Query().Get("file"), a); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, len(a))
	})
	log.Printf("target: listening on %s", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}

func dump(path string, a []int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, v := range a {
		w.WriteString(strconv.FormatInt(v, 10))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
