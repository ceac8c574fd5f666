package replay

import (
	"context"
	"io"
	"net/url"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// fakeDriver stands in for the network under testing/synctest: sending
// takes block on the pacer's thread (a starved generator), and the target
// answers one request at a time (a FIFO queue), each after service(p).
type fakeDriver struct {
	r       *run
	block   time.Duration
	service func(p *pending) time.Duration
	mu      sync.Mutex
	free    time.Duration // when the target is next free
}

func (f *fakeDriver) send(p *pending) {
	if f.block > 0 {
		time.Sleep(f.block)
	}
	now := f.r.clk.now()
	p.sent = now
	f.mu.Lock()
	start := max(now, f.free)
	f.free = start + f.service(p)
	end := f.free
	f.mu.Unlock()
	go func() {
		time.Sleep(end - now)
		p.end = f.r.clk.now()
		p.result.Status = 200
		p.done(p)
	}()
}

func (f *fakeDriver) close() {}

var loopback, _ = url.Parse("http://127.0.0.1:9")

// runFake replays sched through a fakeDriver inside a synctest bubble.
func runFake(t *testing.T, cfg Config, sched Schedule, f *fakeDriver) []schema.Result {
	t.Helper()
	var out []schema.Result
	cfg.Target, cfg.GoClock = loopback, true
	cfg.testDriver = func(r *run) driver { f.r = r; return f }
	_, err := Run(context.Background(), cfg, sched, nil, func(r *schema.Result) { out = append(out, *r) })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func constant(d time.Duration) func(*pending) time.Duration {
	return func(*pending) time.Duration { return d }
}

func TestSpeedScalesTheSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A recorded session: requests at 0, 1 s, 5 s, 60 s.
		var evs []schema.Exchange
		for _, at := range []time.Duration{0, time.Second, 5 * time.Second, time.Minute} {
			evs = append(evs, schema.Exchange{Time: t0.Add(at), Session: "s", User: "u", Method: "GET", Scheme: "http", Host: "h", Path: "/", Protocol: schema.ProtoHTTP11, Source: "test"})
		}
		open := func() (shaper.Source, error) {
			i := 0
			return func() (*schema.Exchange, error) {
				if i == len(evs) {
					return nil, io.EOF
				}
				i++
				e := evs[i-1]
				return &e, nil
			}, nil
		}
		sh, err := shaper.New(shaper.Config{Speed: 10}, open)
		if err != nil {
			t.Fatal(err)
		}
		results := runFake(t, Config{}, sh, &fakeDriver{service: constant(3 * time.Millisecond)})
		want := []time.Duration{0, 100 * time.Millisecond, 500 * time.Millisecond, 6 * time.Second}
		if len(results) != len(want) {
			t.Fatalf("%d results; want %d", len(results), len(want))
		}
		start := results[0].Intended
		for i, r := range results {
			if got := r.Intended.Sub(start); got != want[i] {
				t.Errorf("request %d intended at +%v; want +%v (speed 10)", i, got, want[i])
			}
			if r.LatenessNS != 0 || r.LatencyNS != int64(3*time.Millisecond) {
				t.Errorf("request %d: lateness %v latency %v; want 0 and 3ms", i, time.Duration(r.LatenessNS), time.Duration(r.LatencyNS))
			}
		}
	})
}

func TestLatenessWhenTheGeneratorIsStarved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 100 requests 1 ms apart, but each send costs the pacer 2 ms.
		sched := sessions(100, 1, time.Millisecond, 0)
		results := runFake(t, Config{MaxLateness: 40 * time.Millisecond}, sched, &fakeDriver{block: 2 * time.Millisecond, service: constant(time.Millisecond)})
		var sent, dropped int
		for _, r := range results {
			if r.Error == schema.DroppedDeadline {
				dropped++
				continue
			}
			sent++
			lateness := time.Duration(r.LatenessNS)
			// Admitted (handed to the driver) within the limit.
			if lateness > 40*time.Millisecond || lateness < 0 {
				t.Errorf("request handed over %v late; the limit is 40ms", lateness)
			}
			// Latency from the intended time includes the generator's
			// delay and the driver's 2 ms before the write.
			if time.Duration(r.LatencyNS) != lateness+3*time.Millisecond {
				t.Errorf("latency %v; want lateness %v + 2ms to send + service 1ms", time.Duration(r.LatencyNS), lateness)
			}
		}
		if dropped == 0 || sent+dropped != 100 {
			t.Errorf("sent %d, dropped %d; want some dropped past the deadline, 100 in all", sent, dropped)
		}
	})
}

func TestStalledTargetShowsInLatencyFromIntended(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 200 requests 1 ms apart; the target serves one at a time in 0.5 ms,
		// but request 50 takes 100 ms: everything behind it queues.
		sched := sessions(200, 1, time.Millisecond, 0)
		f := &fakeDriver{service: func(p *pending) time.Duration {
			if p.at == 50*time.Millisecond {
				return 100 * time.Millisecond
			}
			return 500 * time.Microsecond
		}}
		results := runFake(t, Config{}, sched, f)
		for _, r := range results {
			at := r.Intended.Sub(results[0].Intended)
			latency := time.Duration(r.LatencyNS)
			if r.LatenessNS != 0 {
				t.Fatalf("request at %v sent %v late; an open-loop generator sends on time", at, time.Duration(r.LatenessNS))
			}
			switch {
			case at > 50*time.Millisecond && at < 140*time.Millisecond:
				// Queued behind the stall: the wait is in its latency.
				if latency < 150*time.Millisecond-at {
					t.Errorf("request at %v: latency %v hides the queue (want ≥ %v)", at, latency, 150*time.Millisecond-at)
				}
			case at < 50*time.Millisecond:
				if latency != 500*time.Microsecond {
					t.Errorf("request at %v: latency %v before the stall; want 0.5ms", at, latency)
				}
			}
		}
	})
}

func TestClosedModeWaitsForResponses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// One session, 5 requests recorded 10 ms apart; the target takes
		// 30 ms: closed loop sends each 10 ms (think) after the previous
		// response, so they are 40 ms apart.
		sched := sessions(1, 5, 0, 10*time.Millisecond)
		results := runFake(t, Config{Mode: Closed}, sched, &fakeDriver{service: constant(30 * time.Millisecond)})
		for i, r := range results {
			want := time.Duration(i) * 40 * time.Millisecond
			if got := r.Sent.Sub(*results[0].Sent); got != want {
				t.Errorf("request %d sent at +%v; want +%v", i, got, want)
			}
		}
	})
}
