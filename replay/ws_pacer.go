package replay

import (
	"container/heap"
	"sync"
	"sync/atomic"
	"time"
)

// wsTimers starts the WebSocket engine's timed callbacks (a connection's
// next message, its recorded end) at offsets of the run's clock.
type wsTimers interface {
	// at runs f in a goroutine of its own at offset d (or soon after); the
	// returned stop cancels it if it has not started.
	at(d time.Duration, f func()) (stop func())
	close()
}

// goTimers are Go timers: exact under testing/synctest, but Go wakes a
// timer on an idle processor up to about a millisecond late (p50 ≈ 0.55 ms,
// docs/BENCHMARKS.md).
type goTimers struct{ clk clock }

func (g goTimers) at(d time.Duration, f func()) func() {
	t := time.AfterFunc(max(d-g.clk.now()-earlySend, 0), f)
	return func() { t.Stop() }
}

func (goTimers) close() {}

// wsPacer runs the callbacks from one goroutine on its own OS thread that
// sleeps to absolute deadlines with the precise clock (clock_nanosleep, as
// the request pacer does), and starts each callback as a goroutine at its
// time: a message is written tens of microseconds after its deadline
// instead of up to a millisecond. Far deadlines are waited for with a Go
// timer (or a new earlier one's arrival); the last stretch with the
// precise clock, in slices, so a deadline added meanwhile waits at most a
// slice.
type wsPacer struct {
	mu    sync.Mutex
	items wsHeap
	wake  chan struct{} // a new earliest deadline
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

// wsPrecise is how close to a deadline the pacer stops waiting on Go
// timers and sleeps with the precise clock; wsSlice bounds one precise
// sleep.
const (
	wsPrecise = 2 * time.Millisecond
	wsSlice   = 250 * time.Microsecond
)

type wsItem struct {
	at       time.Duration
	f        func()
	canceled atomic.Bool
}

type wsHeap []*wsItem

func (h wsHeap) Len() int           { return len(h) }
func (h wsHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h wsHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *wsHeap) Push(x any)        { *h = append(*h, x.(*wsItem)) }
func (h *wsHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}

// newWSPacer starts the pacer; offsets count from the wall time start (the
// run clock's offset 0).
func newWSPacer(start time.Time) (*wsPacer, error) {
	p := &wsPacer{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		defer close(p.done)
		clk, err := newPreciseClock(start) // locks this goroutine to its thread
		ready <- err
		if err != nil {
			return
		}
		defer clk.close()
		p.loop(clk)
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return p, nil
}

func (p *wsPacer) at(d time.Duration, f func()) func() {
	it := &wsItem{at: d, f: f}
	p.mu.Lock()
	heap.Push(&p.items, it)
	first := p.items[0] == it
	p.mu.Unlock()
	if first {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	return func() { it.canceled.Store(true) }
}

// close stops the pacer; safe to call twice.
func (p *wsPacer) close() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

// loop waits for the earliest deadline and starts what is due.
func (p *wsPacer) loop(clk clock) {
	var idle *time.Timer
	for {
		p.mu.Lock()
		var next time.Duration
		have := len(p.items) > 0
		if have {
			next = p.items[0].at
		}
		p.mu.Unlock()
		now := clk.now()
		switch {
		case !have:
			select {
			case <-p.wake:
			case <-p.stop:
				return
			}
			continue
		case next-now > wsPrecise:
			if idle == nil {
				idle = time.NewTimer(next - now - wsPrecise)
			} else {
				idle.Reset(next - now - wsPrecise)
			}
			select {
			case <-idle.C:
			case <-p.wake:
				idle.Stop()
			case <-p.stop:
				return
			}
			continue
		case next-now > earlySend:
			clk.sleepUntil(min(next, now+wsSlice))
			continue
		}
		p.startDue(now)
		select {
		case <-p.stop:
			return
		default:
		}
	}
}

// startDue starts every callback due by now (within earlySend).
func (p *wsPacer) startDue(now time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.items) > 0 && p.items[0].at <= now+earlySend {
		it := heap.Pop(&p.items).(*wsItem)
		if !it.canceled.Load() {
			go it.f()
		}
	}
}
