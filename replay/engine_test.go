package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

var t0 = time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC)

// slice is a Schedule over a slice.
type slice struct {
	reqs []shaper.Request
	i    int
}

func (l *slice) Next() (*shaper.Request, error) {
	if l.i == len(l.reqs) {
		return nil, io.EOF
	}
	l.i++
	return &l.reqs[l.i-1], nil
}

// sessions makes n sessions of k GET requests each, session s starting at
// s×gap and its requests step apart, carrying X-Session and X-Seq headers.
func sessions(n, k int, gap, step time.Duration) *slice {
	var reqs []shaper.Request
	for s := 0; s < n; s++ {
		for i := 0; i < k; i++ {
			e := &schema.Exchange{
				Method: "GET", Path: fmt.Sprintf("/api/v1/item/%d", i), Seq: int32(i),
				Headers: []schema.Header{{Name: "X-Session", Value: strconv.Itoa(s)}, {Name: "X-Seq", Value: strconv.Itoa(i)}},
			}
			reqs = append(reqs, shaper.Request{
				At: time.Duration(s)*gap + time.Duration(i)*step, Think: step,
				Session: "s" + strconv.Itoa(s), VirtualSession: "s" + strconv.Itoa(s), User: "u" + strconv.Itoa(s),
				First: i == 0, Exchange: e,
			})
		}
	}
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].At < reqs[j].At })
	return &slice{reqs: reqs}
}

// recorder is a target that records the order requests of each session
// arrive in.
type recorder struct {
	mu     sync.Mutex
	order  map[string][]int
	hits   atomic.Int64
	status int
	delay  time.Duration
}

func newRecorder(t *testing.T) (*recorder, *url.URL) {
	rec := &recorder{order: map[string][]int{}, status: 200}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.hits.Add(1)
		seq, _ := strconv.Atoi(r.Header.Get("X-Seq"))
		rec.mu.Lock()
		rec.order[r.Header.Get("X-Session")] = append(rec.order[r.Header.Get("X-Session")], seq)
		status, delay := rec.status, rec.delay
		rec.mu.Unlock()
		time.Sleep(delay)
		w.WriteHeader(status)
		w.Write(make([]byte, 200))
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return rec, u
}

// set sets the status and delay of the recorder's answers.
func (rec *recorder) set(status int, delay time.Duration) {
	rec.mu.Lock()
	rec.status, rec.delay = status, delay
	rec.mu.Unlock()
}

func collect(t *testing.T, cfg Config, sched Schedule, stop <-chan struct{}) ([]schema.Result, *Stats, error) {
	t.Helper()
	var mu sync.Mutex
	var out []schema.Result
	st, err := Run(context.Background(), cfg, sched, stop, func(r *schema.Result) {
		mu.Lock()
		out = append(out, *r)
		mu.Unlock()
	})
	return out, st, err
}

func TestSessionsKeepOrderAtTheTarget(t *testing.T) {
	for _, tt := range []struct {
		name    string
		cfg     Config
		arrival bool // arrival order at the target is guaranteed, not only send order
	}{
		// Open loop over the lean HTTP/1.1 driver, each user its own
		// connections, no pipelining: sent in order, but connections race.
		{"timeline lean", Config{Mode: Timeline, Driver: DriverLean}, false},
		// With pipelining asked for, a session's requests in flight share a
		// connection, so they arrive in order.
		{"timeline lean pipelined", Config{Mode: Timeline, Driver: DriverLean, Pipeline: 16}, true},
		// A shared pool, pipelined: the same.
		{"shared pool pipelined", Config{Mode: Timeline, Driver: DriverLean, Conns: ConnsShared, Pipeline: 16}, true},
		// Open loop over net/http: sent in order, but connections race.
		{"timeline net/http", Config{Mode: Timeline, Driver: DriverHTTP}, false},
		// Closed loop: each request after the previous response.
		{"closed", Config{Mode: Closed}, true},
		// Each virtual user its own connections, fewer connections than
		// users: they are recycled between users (pipelined: in order).
		{"per user, recycled", Config{Mode: Timeline, PerUser: true, MaxConns: 8, Pipeline: 16}, true},
		// Each virtual user its own connections, enough of them.
		{"per user, enough connections", Config{Mode: Timeline, PerUser: true, MaxConns: 64}, false},
		// A shared pool without pipelining.
		{"shared pool", Config{Mode: Timeline, Conns: ConnsShared, MaxConns: 16}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec, target := newRecorder(t)
			cfg := tt.cfg
			cfg.Target = target
			// 40 sessions of 10 requests, 1 ms apart, overlapping.
			results, st, err := collect(t, cfg, sessions(40, 10, 2*time.Millisecond, time.Millisecond), nil)
			if err != nil {
				t.Fatal(err)
			}
			if st.Scheduled != 400 || st.Sent != 400 || len(results) != 400 || rec.hits.Load() != 400 {
				t.Fatalf("scheduled %d sent %d results %d hits %d; want 400 each", st.Scheduled, st.Sent, len(results), rec.hits.Load())
			}
			if tt.arrival {
				// The lean driver's raw sockets give the race detector no
				// edge from the handler to here: take the lock.
				rec.mu.Lock()
				defer rec.mu.Unlock()
				for s, order := range rec.order {
					for i, seq := range order {
						if seq != i {
							t.Fatalf("session %s arrived in order %v", s, order)
						}
					}
				}
			}
			lastSent := map[string]time.Time{}
			for _, r := range results {
				// Lateness is slightly negative when the pacer sent a
				// request due within microseconds rather than sleep.
				if r.Status != 200 || r.Error != "" || r.Sent == nil || r.BytesIn < 200 ||
					(r.LatenessNS >= 0 && r.LatencyNS < r.ServiceNS) || r.LatenessNS < -int64(earlySend) {
					t.Fatalf("result %+v", r)
				}
			}
			// Without pipelining, the lean driver dials a new connection
			// for a request while the session's previous one is still
			// connecting, as a browser does: writes may then cross.
			for _, r := range sortedBySeq(results) {
				if !tt.arrival && tt.cfg.Driver != DriverHTTP {
					break
				}
				if prev, ok := lastSent[r.Session]; ok && r.Sent.Before(prev) {
					t.Fatalf("session %s: request %d sent before the one before it", r.Session, r.Seq)
				}
				lastSent[r.Session] = *r.Sent
			}
		})
	}
}

func TestRefusesTargetNotAllowed(t *testing.T) {
	rec, target := newRecorder(t)
	tests := []struct {
		name   string
		target string
		allow  []string
		ok     bool
	}{
		// Documentation address: not loopback, so refused by default.
		{"default refuses", "http://192.0.2.10:8080", nil, false},
		// Allowed by CIDR.
		{"cidr", "http://192.0.2.10:8080", []string{"192.0.2.0/24"}, true},
		// An allowlist without loopback refuses the loopback target.
		{"list excludes", target.String(), []string{"192.0.2.0/24"}, false},
		// Loopback is allowed by default.
		{"loopback", target.String(), nil, true},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.target)
		err := CheckTarget(context.Background(), u, tt.allow)
		if (err == nil) != tt.ok {
			t.Errorf("%s: CheckTarget(%s, %v) = %v; want ok=%v", tt.name, tt.target, tt.allow, err, tt.ok)
		}
	}
	u, _ := url.Parse("http://192.0.2.10:8080")
	_, _, err := collect(t, Config{Target: u}, sessions(1, 3, 0, time.Millisecond), nil)
	if !errors.Is(err, ErrNotAllowed) {
		t.Errorf("Run to a refused target: %v; want ErrNotAllowed", err)
	}
	if rec.hits.Load() != 0 {
		t.Errorf("%d requests reached a server", rec.hits.Load())
	}
}

func TestAbortOnErrorRate(t *testing.T) {
	rec, target := newRecorder(t)
	rec.set(503, 0)
	// 2,000 requests over 2 s; every answer is 503.
	results, st, err := collect(t, Config{Target: target, Abort: &AbortRule{Rate: 0.5, Window: time.Second, MinRequests: 20}},
		sessions(200, 10, 10*time.Millisecond, time.Millisecond), nil)
	if !errors.Is(err, ErrStopped) || st.Stopped == "" {
		t.Fatalf("Run = %v, stats %+v; want it aborted", err, st)
	}
	if st.Sent >= 1000 || int64(len(results)) != st.Scheduled {
		t.Errorf("sent %d of 2000 and %d results for %d scheduled; want an early stop and a result per scheduled request", st.Sent, len(results), st.Scheduled)
	}
}

func TestGracefulStop(t *testing.T) {
	rec, target := newRecorder(t)
	rec.set(200, 20*time.Millisecond)
	stop := make(chan struct{})
	time.AfterFunc(100*time.Millisecond, func() { close(stop) })
	start := time.Now()
	// 10 s of schedule; stopped after 0.1 s.
	results, st, err := collect(t, Config{Target: target}, sessions(100, 100, 100*time.Millisecond, time.Millisecond), stop)
	if !errors.Is(err, ErrStopped) {
		t.Fatalf("Run = %v; want ErrStopped", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("stop took %v", time.Since(start))
	}
	var ok, canceled int
	for _, r := range results {
		switch {
		case r.Error == "" && r.Status == 200:
			ok++
		case r.Error == schema.ErrCanceled:
			canceled++
		}
	}
	// In-flight requests finish within the grace period.
	if ok == 0 || canceled != 0 || int64(len(results)) != st.Scheduled {
		t.Errorf("ok %d canceled %d results %d scheduled %d; want in-flight requests finished", ok, canceled, len(results), st.Scheduled)
	}
}

func TestRateCapDrops(t *testing.T) {
	_, target := newRecorder(t)
	// 1,000 requests in 100 ms (10k/s) with a 500/s cap (burst: 500).
	results, st, err := collect(t, Config{Target: target, MaxRPS: 500}, sessions(100, 10, time.Millisecond, 100*time.Microsecond), nil)
	if err != nil {
		t.Fatal(err)
	}
	var capped int64
	first, last := results[0].Intended, results[0].Intended
	for _, r := range results {
		if r.Error == schema.DroppedCap {
			capped++
			if r.Sent != nil {
				t.Fatal("a dropped request has a send time")
			}
			continue
		}
		if r.Intended.Before(first) {
			first = r.Intended
		}
		if r.Sent.After(last) {
			last = *r.Sent
		}
	}
	// The cap allows 500/s over however long the run took (a loaded
	// machine stretches it), plus a burst of one second's worth.
	allowed := int64(last.Sub(first).Seconds()*500) + 500
	if capped != st.Dropped || capped == 0 || st.Sent > allowed+5 || st.Sent < 100 {
		t.Errorf("sent %d in %v, dropped %d (capped %d); want at most %d at 500/s", st.Sent, last.Sub(first), st.Dropped, capped, allowed)
	}
}

func sortedBySeq(rs []schema.Result) []schema.Result {
	out := append([]schema.Result(nil), rs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

func TestHTTP2(t *testing.T) {
	var protos sync.Map
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protos.Store(r.Proto, true)
		w.Write([]byte("ok"))
	}))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	// --http2 against a plain http:// target speaks h2c through net/http.
	results, _, err := collect(t, Config{Target: u, HTTP2: true}, sessions(5, 4, time.Millisecond, time.Millisecond), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := protos.Load("HTTP/2.0"); !ok || len(results) != 20 || results[0].Status != 200 {
		t.Errorf("protocols seen %v, %d results; want HTTP/2.0 and 20 results", keys(&protos), len(results))
	}
}

func keys(m *sync.Map) []any {
	var out []any
	m.Range(func(k, _ any) bool { out = append(out, k); return true })
	return out
}
