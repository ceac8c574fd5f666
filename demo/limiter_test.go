package demo

import (
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// outcome is what one request sent through a handler saw.
type outcome struct {
	status     int
	retryAfter string
	latency    time.Duration
}

// burst sends n concurrent requests for path to h at once and returns what
// they saw, sorted by latency. Inside a synctest bubble the latencies are
// exact.
func burst(h http.Handler, path string, n int) []outcome {
	out := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			start := time.Now()
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer {{secret:test}}")
			h.ServeHTTP(rec, req)
			out[i] = outcome{rec.Code, rec.Header().Get("Retry-After"), time.Since(start)}
		})
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b outcome) int { return int(a.latency - b.latency) })
	return out
}

func TestBurstQueuesThenSheds(t *testing.T) {
	tests := []struct {
		name         string
		capacity     int
		queueTimeout time.Duration
		requests     int
		wantServed   int // -1: at least 1 and fewer than requests
	}{
		// Six searches on two slots with a long queue: all are served, the
		// later ones after waiting.
		{"queue", 2, 2 * time.Second, 6, 6},
		// The same burst with a 150 ms queue: the first pairs are served,
		// the rest get 503 after exactly 150 ms.
		{"shed", 2, 150 * time.Millisecond, 6, -1},
		// No queue at all: only the first two are served.
		{"no queue", 2, -1, 6, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, err := New(Config{Capacity: map[string]int{"search": tt.capacity}, QueueTimeout: tt.queueTimeout})
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				got := burst(srv.Handler(), "/api/v1/search?q=derby", tt.requests)
				checkBurst(t, got, tt.wantServed, tt.queueTimeout)
				st, _ := srv.Stats().Class("search")
				if st.PeakInFlight != tt.capacity || st.Requests != int64(tt.requests) || st.Served+st.Rejected != st.Requests {
					t.Errorf("stats = %+v; want peak %d, %d requests, served+rejected = requests", st, tt.capacity, tt.requests)
				}
			})
		})
	}
}

// checkBurst checks the outcomes of a burst: 200s whose latencies grow as
// they queue, and 503s with Retry-After: 1 after exactly the queue timeout
// (at once without a queue).
func checkBurst(t *testing.T, got []outcome, wantServed int, queueTimeout time.Duration) {
	t.Helper()
	var served []time.Duration
	for _, o := range got {
		switch o.status {
		case 200:
			served = append(served, o.latency)
		case 503:
			if want := max(queueTimeout, 0); o.latency != want || o.retryAfter != "1" {
				t.Errorf("503 after %v with Retry-After %q; want after %v with 1", o.latency, o.retryAfter, want)
			}
		default:
			t.Errorf("status %d; want 200 or 503", o.status)
		}
	}
	if wantServed >= 0 && len(served) != wantServed {
		t.Errorf("served %d of %d; want %d (%v)", len(served), len(got), wantServed, got)
	}
	if wantServed < 0 && (len(served) == 0 || len(served) == len(got)) {
		t.Errorf("served %d of %d; want some served and some 503 (%v)", len(served), len(got), got)
	}
	// Service alone is at most 120 ms; a request served after queueing
	// behind two pairs waits at least the shortest two services (2×40 ms).
	if len(served) > 2 && served[len(served)-1] < 2*served[0] {
		t.Errorf("served latencies %v do not grow with the queue", served)
	}
}

func TestLoadStretchesServiceTime(t *testing.T) {
	// Searches (base service 40–120 ms, mean 80 ms) arrive every interval
	// for 10 s on 4 slots.
	tests := []struct {
		name             string
		interval         time.Duration
		minMean, maxMean time.Duration // mean service time
		rejected         bool          // whether some get 503
	}{
		// 2.5/s, 0.2 in service: base service times, no errors.
		{"light", 400 * time.Millisecond, 60 * time.Millisecond, 100 * time.Millisecond, false},
		// 10/s, about 0.8 in service: a little slower, no errors.
		{"moderate", 100 * time.Millisecond, 70 * time.Millisecond, 110 * time.Millisecond, false},
		// 28/s, 2.3 in service at base speed: service stretches towards 3x,
		// capacity drops to about 17/s, and the queue overflows.
		{"overload", 35 * time.Millisecond, 160 * time.Millisecond, 240 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv, err := New(Config{Capacity: map[string]int{"search": 4}, Seed: 1})
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				var wg sync.WaitGroup
				for range int(10 * time.Second / tt.interval) {
					wg.Go(func() { burst(srv.Handler(), "/api/v1/search?q=x", 1) })
					time.Sleep(tt.interval)
				}
				wg.Wait()
				st, _ := srv.Stats().Class("search")
				if st.PeakInFlight > 4 {
					t.Errorf("every %v: peak in flight %d; want at most the capacity, 4", tt.interval, st.PeakInFlight)
				}
				if st.MeanService < tt.minMean || st.MeanService > tt.maxMean || (st.Rejected > 0) != tt.rejected {
					t.Errorf("every %v: mean service %v, %d of %d rejected; want %v–%v, rejections %v",
						tt.interval, st.MeanService, st.Rejected, st.Requests, tt.minMean, tt.maxMean, tt.rejected)
				}
				// The percentiles come from the same measured service times:
				// at least the base minimum, ordered, and at most the slow
				// tail (4x) of the base maximum stretched 3x.
				if st.P50Service < 40*time.Millisecond || st.P99Service < st.P50Service || st.P99Service > 12*120*time.Millisecond {
					t.Errorf("every %v: service p50 %v, p99 %v; want 40 ms ≤ p50 ≤ p99 ≤ 1.44 s", tt.interval, st.P50Service, st.P99Service)
				}
			})
		})
	}
}

func TestCloseRejectsWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, err := New(Config{Capacity: map[string]int{"recommendations": 1}, QueueTimeout: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan []outcome)
		go func() { done <- burst(srv.Handler(), "/api/v1/recommendations?user=u1", 3) }()
		synctest.Wait() // one in service, two queued
		srv.Close()
		for _, o := range <-done {
			if o.status != 503 || o.latency != 0 {
				t.Errorf("after Close: %d after %v; want 503 at once", o.status, o.latency)
			}
		}
	})
}

func TestSlowdown(t *testing.T) {
	tests := []struct {
		u    float64
		want float64
	}{
		{0, 1},     // idle: base service time
		{0.5, 1.5}, // half busy: 1 + 2·0.25
		{1, 3},     // at capacity: three times as long
		{2, 3},     // clamped above
		{-1, 1},    // clamped below
	}
	for _, tt := range tests {
		if got := slowdown(tt.u); got != tt.want {
			t.Errorf("slowdown(%v) = %v; want %v", tt.u, got, tt.want)
		}
	}
}

func TestEWMA(t *testing.T) {
	t0 := time.Unix(1_795_290_000, 0)
	e := 1 - math.Exp(-1) // one time constant of a step from 0 to 1
	tests := []struct {
		name  string
		steps []int // value set at t0, t0+1s, t0+2s, …
		at    time.Duration
		want  float64
	}{
		// Nothing yet.
		{"empty", nil, 0, 0},
		// A step to 4 reaches 1-1/e of 4 after one window.
		{"step", []int{4}, time.Second, 4 * e},
		// And almost all of it after ten.
		{"settled", []int{4}, 10 * time.Second, 4 * (1 - math.Exp(-10))},
		// A burst that ended decays.
		{"decay", []int{4, 0}, 2 * time.Second, 4 * e * math.Exp(-1)},
	}
	for _, tt := range tests {
		var l ewma
		for i, n := range tt.steps {
			l.set(t0.Add(time.Duration(i)*time.Second), n)
		}
		if len(tt.steps) == 0 {
			l.set(t0, 0)
		}
		if got := l.value(t0.Add(tt.at)); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: value(t0+%v) = %v; want %v", tt.name, tt.at, got, tt.want)
		}
	}
}

func TestServiceTime(t *testing.T) {
	for c := range numClasses {
		p := profiles[c]
		a := newLimiter(c, 1, 0, 42)
		b := newLimiter(c, 1, 0, 42)
		other := newLimiter(c, 1, 0, 43)
		var sum time.Duration
		same := 0
		const n = 2000
		for i := range uint64(n) {
			d := a.serviceTime(i, 0)
			if d != b.serviceTime(i, 0) {
				t.Fatalf("%s: serviceTime(%d) differs between equal seeds", c, i)
			}
			if d == other.serviceTime(i, 0) {
				same++
			}
			if d < p.min || d > 4*p.max {
				t.Errorf("%s: serviceTime(%d, 0) = %v; want %v–%v", c, i, d, p.min, 4*p.max)
			}
			if got := a.serviceTime(i, 1); (got - 3*d).Abs() > 3 { // ns of rounding
				t.Errorf("%s: serviceTime(%d, 1) = %v; want 3×%v", c, i, got, d)
			}
			sum += d
		}
		mid := (p.min + p.max) / 2
		if mean := sum / n; mean < mid*9/10 || mean > mid*12/10 {
			t.Errorf("%s: mean service %v; want near %v", c, mean, mid)
		}
		if same > n/10 {
			t.Errorf("%s: seeds 42 and 43 agree on %d of %d service times", c, same, n)
		}
	}
}
