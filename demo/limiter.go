package demo

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// loadWindow is the time constant of a class's load average: utilization
// follows sustained load over about a second, not every coincidence of two
// arrivals.
const loadWindow = time.Second

// slowdownAtCapacity is how much longer service takes when a class's load
// average reaches its capacity: service × (1 + slowdownAtCapacity·u²).
const slowdownAtCapacity = 2

var (
	// errBusy: every slot stayed busy for the whole queue timeout.
	errBusy = errors.New("demo: class at capacity")
	// errClosed: the server is closing.
	errClosed = errors.New("demo: server closed")
)

// limiter is one route class's capacity: a semaphore with a FIFO queue (the
// channel's waiting senders), the class's load average, and its counters.
// It is safe for concurrent use.
type limiter struct {
	class    class
	capacity int
	timeout  time.Duration // queue timeout; negative: no queue
	seed     uint64
	slots    chan struct{} // one element per request in service
	started  atomic.Uint64 // numbers requests in service, for the jitter

	mu       sync.Mutex
	load     ewma // of demand: requests in service plus queued
	inFlight int
	waiting  int
	peak     int
	requests int64
	admitted int64
	served   int64
	rejected int64
	waitSum  time.Duration
	service  time.Duration // sum of measured service times
	// serviceHist holds the measured service times of served requests in
	// µs (1 µs to 1 min, 3 significant digits), for percentiles.
	serviceHist *hdrhistogram.Histogram
}

func newLimiter(c class, capacity int, timeout time.Duration, seed uint64) *limiter {
	return &limiter{
		class:    c,
		capacity: capacity,
		timeout:  timeout,
		seed:     seed,
		slots:    make(chan struct{}, capacity),

		serviceHist: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3),
	}
}

// do runs one request through the class: it waits for a slot (at most the
// queue timeout), holds it for the service time, and releases it. It
// returns the request's number in the class, or errBusy when no slot came
// free in time, errClosed when stop closed, or the context's error when the
// client went away.
func (l *limiter) do(ctx context.Context, stop <-chan struct{}) (uint64, error) {
	arrived := time.Now()
	l.arrive(arrived)
	if err := l.acquire(ctx, stop); err != nil {
		l.leave(time.Now(), errors.Is(err, errBusy))
		return 0, err
	}
	start := time.Now()
	n := l.started.Add(1)
	d := l.serviceTime(n, l.utilization(start, arrived))
	t := time.NewTimer(d)
	defer t.Stop()
	var err error
	select {
	case <-t.C:
	case <-ctx.Done():
		err = ctx.Err()
	case <-stop:
		err = errClosed
	}
	// Count the request out before freeing its slot, so that the next
	// request's count never sees capacity+1 in service.
	l.release(time.Now(), start, err == nil)
	<-l.slots
	return n, err
}

// acquire takes a slot, waiting for one up to the queue timeout.
func (l *limiter) acquire(ctx context.Context, stop <-chan struct{}) error {
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	if l.timeout < 0 {
		return errBusy
	}
	t := time.NewTimer(l.timeout)
	defer t.Stop()
	// Waiting senders on a channel are served in arrival order, which makes
	// this a FIFO queue.
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-t.C:
		return errBusy
	case <-ctx.Done():
		return ctx.Err()
	case <-stop:
		return errClosed
	}
}

// arrive counts a request that starts waiting for a slot.
func (l *limiter) arrive(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests++
	l.waiting++
	l.load.set(now, l.inFlight+l.waiting)
}

// leave counts a request that gave up waiting; busy means it got 503.
func (l *limiter) leave(now time.Time, busy bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waiting--
	if busy {
		l.rejected++
	}
	l.load.set(now, l.inFlight+l.waiting)
}

// utilization moves a request from the queue into service and returns the
// class's load average over its capacity, in [0, 1].
func (l *limiter) utilization(now, arrived time.Time) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waiting--
	l.inFlight++
	l.peak = max(l.peak, l.inFlight)
	l.admitted++
	l.waitSum += now.Sub(arrived)
	u := l.load.value(now) / float64(l.capacity)
	return min(max(u, 0), 1)
}

// release counts the end of a service; ok means the request was answered.
func (l *limiter) release(now, start time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	if ok {
		l.served++
		d := now.Sub(start)
		l.service += d
		_ = l.serviceHist.RecordValue(max(int64(d/time.Microsecond), 1)) // clamps to the top: no error below a minute
	}
	l.load.set(now, l.inFlight+l.waiting)
}

// serviceTime is the service time of the class's n-th request at
// utilization u: a jittered base time (peaked in the class's range, with a
// slow tail of one request in 200 taking 2–4 times as long) stretched by
// slowdown(u).
func (l *limiter) serviceTime(n uint64, u float64) time.Duration {
	p := profiles[l.class]
	h := splitmix64(l.seed ^ splitmix64(uint64(l.class)+1) ^ n*0x9e3779b97f4a7c15)
	u1, h := unit(h), splitmix64(h)
	u2, h := unit(h), splitmix64(h)
	base := float64(p.min) + (u1+u2)/2*float64(p.max-p.min)
	if h%200 == 0 {
		base *= 2 + 2*unit(splitmix64(h))
	}
	return time.Duration(base * slowdown(u))
}

// slowdown is the factor by which service stretches at utilization u in
// [0, 1]: 1 when idle, 1+slowdownAtCapacity at capacity. Latency thus
// degrades before errors appear, and a saturated class serves fewer
// requests per second, as a real one does under contention.
func slowdown(u float64) float64 {
	u = min(max(u, 0), 1)
	return 1 + slowdownAtCapacity*u*u
}

// stats returns the class's counters.
func (l *limiter) stats() ClassStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := ClassStats{
		Class:        l.class.String(),
		Capacity:     l.capacity,
		Requests:     l.requests,
		Served:       l.served,
		Rejected:     l.rejected,
		PeakInFlight: l.peak,
	}
	if l.admitted > 0 {
		s.MeanWait = l.waitSum / time.Duration(l.admitted)
	}
	if l.served > 0 {
		s.MeanService = l.service / time.Duration(l.served)
		s.P50Service = time.Duration(l.serviceHist.ValueAtQuantile(50)) * time.Microsecond
		s.P99Service = time.Duration(l.serviceHist.ValueAtQuantile(99)) * time.Microsecond
	}
	return s
}

// ewma is an exponentially weighted time average of a step function n(t)
// with time constant loadWindow. The zero value is an average of 0.
type ewma struct {
	avg  float64
	n    int
	last time.Time
}

// set makes n the value from now on.
func (e *ewma) set(now time.Time, n int) {
	e.advance(now)
	e.n = n
}

// value returns the average at now.
func (e *ewma) value(now time.Time) float64 {
	e.advance(now)
	return e.avg
}

func (e *ewma) advance(now time.Time) {
	if e.last.IsZero() {
		e.last = now
		return
	}
	dt := now.Sub(e.last)
	if dt <= 0 {
		return
	}
	a := math.Exp(-float64(dt) / float64(loadWindow))
	e.avg = e.avg*a + float64(e.n)*(1-a)
	e.last = now
}

// splitmix64 is the SplitMix64 mixing function: a cheap, well-spread hash
// of x.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// unit maps h to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }
