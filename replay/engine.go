package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-replay/surge/accounts"
	"github.com/surge-replay/surge/internal/procs"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// Schedule is what a run replays: requests in intended-time order.
// *shaper.Shaper is one.
type Schedule interface {
	Next() (*shaper.Request, error)
}

// Paced is a Schedule whose Next may block until a request's time is near
// (a fleet agent's, which reads ahead of the clock by a bounded lookahead,
// or waits out a pause). Run hands each of its requests to the pacer as
// soon as Next returns it, instead of in batches that could wait inside a
// blocked Next past their time.
type Paced interface {
	Schedule
	Paced() bool
}

// Stats says how a run went, apart from the per-request results.
type Stats struct {
	Start     time.Time
	Scheduled int64  // requests whose time came (sent or dropped)
	Sent      int64  // requests written to the target
	Dropped   int64  // never sent (deadline, cap, abort)
	Stopped   string // why the run ended early ("" when it ran to the end)
	// DNS counts each region's lookups (Config.Regions); nil without.
	DNS map[string]DNSStats
	// AccountsLeased counts accounts lent to virtual users (one per live
	// user); AccountsExhausted the users that found every account taken
	// and shared one. Zero without accounts.
	AccountsLeased, AccountsExhausted int64
	// With a Pool: AccountsSharedSessions counts the virtual sessions that
	// ran on a shared account (without one of their own);
	// AccountsUnmatched the virtual users whose recorded user has no
	// account in the pool (they borrowed another user's free account).
	AccountsSharedSessions, AccountsUnmatched int64
	// WebSocket is what the WebSocket connections did beyond their
	// results (message lateness and staleness, reconnects); nil without
	// Config.WebSocket.
	WebSocket *WSStats
}

// ErrStopped reports a run that was stopped or aborted before the end of its
// schedule; Stats.Stopped says why.
var ErrStopped = errors.New("replay stopped early")

// driver sends prepared requests; see leanDriver and httpDriver.
type driver interface {
	send(p *pending)
	close()
}

// run is the state of one Run.
type run struct {
	cfg     *Config
	clk     clock
	drv     driver
	emit    func(*schema.Result)
	results chan *pending
	abort   *abortWatch
	nets    *regionNets // nil: no regions

	ws        *wsEngine                    // nil: no WebSocket replay
	capAllows func(now time.Duration) bool // nil: no cap
	leases    *leases                      // nil: no accounts
	lender    *accounts.Lender             // nil: no pool

	runners      sync.WaitGroup // closed-loop session runners
	closeRunners func()         // retires every runner (closed mode)

	inflight  sync.WaitGroup
	stopping  atomic.Bool
	stopOnce  sync.Once
	stopCh    chan struct{} // closed by stop
	reason    atomic.Value  // string
	scheduled atomic.Int64
	sent      atomic.Int64
	dropped   atomic.Int64
}

// Run replays sched against cfg.Target and hands every result to emit (from
// one goroutine, in completion order). Closing stop ends it gracefully:
// nothing more is sent, requests in flight get cfg.Grace to finish. Canceling
// ctx ends it at once. The target is checked against the allowlist before
// anything is sent.
//
// With the precise clock, Run locks its goroutine to its OS thread for the
// duration of the run.
func Run(ctx context.Context, cfg Config, sched Schedule, stop <-chan struct{}, emit func(*schema.Result)) (*Stats, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	nets, err := newRegionNets(ctx, &cfg) // with regions, the safety check
	if err != nil {
		return nil, err
	}
	defer nets.close()
	if nets == nil {
		if err := CheckTarget(ctx, cfg.Target, cfg.Allow); err != nil {
			return nil, err
		}
	}
	r := &run{cfg: &cfg, emit: emit, results: make(chan *pending, 8192), stopCh: make(chan struct{}), nets: nets}
	if cfg.Abort != nil {
		r.abort = newAbortWatch(cfg.Abort)
	}
	if cfg.MaxRPS > 0 {
		r.capAllows = (&lockedBucket{b: newBucket(cfg.MaxRPS)}).allow
	}
	// The producer prepares requests before the clock starts, so the run
	// starts when the first request is ready, not before.
	ready, prodErr := r.produce(ctx, sched)
	first, ok := ready.next()
	// One P for each of this run's goroutines that wait in system calls,
	// reserved before the clock starts (changing GOMAXPROCS stops the world).
	defer procs.Reserve(cfg.blockingThreads())()
	if cfg.GoClock {
		r.clk = newGoClock(cfg.Start)
	} else {
		if r.clk, err = newPreciseClock(cfg.Start); err != nil {
			return nil, err
		}
	}
	defer r.clk.close()
	if r.drv, err = r.newDriver(); err != nil {
		return nil, err
	}
	if r.ws = newWSEngine(ctx, r); r.ws != nil {
		defer r.ws.close()
	}
	if cfg.Started != nil {
		cfg.Started(r.clk.wall(0))
	}
	if !ok {
		first = nil // an empty schedule
	}

	collected := make(chan struct{})
	go func() { r.collect(); close(collected) }()
	watchDone := make(chan struct{})
	go r.watch(ctx, stop, watchDone)

	if cfg.Mode == Closed {
		r.pace(first, ready, r.closedLoop())
		r.closeRunners()
		r.runners.Wait()
	} else {
		r.pace(first, ready, r.dispatch)
	}
	r.finish(ctx)
	close(watchDone)
	close(r.results)
	<-collected

	st := &Stats{Start: r.clk.wall(0), Scheduled: r.scheduled.Load(), Sent: r.sent.Load(), Dropped: r.dropped.Load()}
	if r.ws != nil {
		st.WebSocket = r.ws.stats
	}
	st.DNS = nets.stats()
	if r.leases != nil {
		st.AccountsLeased, st.AccountsExhausted = r.leases.leased.Load(), r.leases.exhausted.Load()
	}
	r.poolStats(st)
	if reason, _ := r.reason.Load().(string); reason != "" {
		st.Stopped = reason
		return st, fmt.Errorf("%w: %s", ErrStopped, reason)
	}
	return st, *prodErr
}

// blockingThreads counts the run's goroutines that spend their time in
// blocking system calls, each holding its P while it waits (sysmon takes
// it back 20 µs to 10 ms later, not at all while another P is idle): the
// pacer asleep in clock_nanosleep on its locked thread, the lean driver's
// poller in epoll_wait, and the WebSocket message pacer's own clock. Run
// reserves a P for each (internal/procs), so that response handling, the
// producer and the collector never wait for the Ps they hold: on 2 cores
// the pacer and the poller held both much of the time (make demo's
// heartbeat p99 16–33 ms against the platform's 8–11 ms; 5.8–6.6 ms
// against 3.8–3.9 ms with the Ps reserved; docs/BENCHMARKS.md).
func (c *Config) blockingThreads() int {
	if c.GoClock {
		return 0 // tests: Go timers, the lean poller alone (if any) waits
	}
	n := 1 // the pacer
	if c.usesLean() {
		n++
	}
	if c.WebSocket != nil && leanSupported {
		n++ // newWSEngine's pacer
	}
	return n
}

// usesLean reports whether the run uses the lean driver.
func (c *Config) usesLean() bool {
	if c.testDriver != nil {
		return false
	}
	return c.usesLeanFor()
}

func (c *Config) usesLeanFor() bool {
	if !leanSupported || c.Target == nil {
		return false
	}
	return c.Driver == DriverLean || ((c.Driver == "" || c.Driver == DriverAuto) && c.Target.Scheme == "http" && !c.HTTP2)
}

func (r *run) newDriver() (driver, error) {
	c := r.cfg
	if c.testDriver != nil {
		return c.testDriver(r), nil
	}
	if c.usesLean() {
		port := c.Target.Port()
		if port == "" {
			port = "80"
		}
		addr := net.JoinHostPort(c.Target.Hostname(), port)
		if r.nets != nil {
			addr = "" // every connection's address comes from its region
		}
		ld, err := newLeanDriver(addr, r.clk.now, c.timeout(), c.maxLateness(), c.maxConns(), !c.shared(), c.pipeline())
		if err != nil {
			return nil, err
		}
		var drv driver = ld
		if rn, ok := drv.(interface{ setNets(*regionNets) }); ok && r.nets != nil {
			rn.setNets(r.nets)
		}
		return drv, nil
	}
	d := newHTTPDriver(c.Target, r.clk.now, c.timeout(), c.maxLateness(), c.maxConns(), !c.shared(), c.HTTP2, c.Insecure)
	d.nets = r.nets
	return d, nil
}

// produceBatch is how many prepared requests the producer hands the pacer
// at once: a channel hand-off that wakes a parked goroutine costs a futex
// call and a context switch, so it happens once per batch, not per request.
const produceBatch = 256

// feed hands the pacer the producer's requests one by one, from batches.
type feed struct {
	ch    chan []*pending
	batch []*pending
}

// next returns the next prepared request, or false at the end.
func (f *feed) next() (*pending, bool) {
	for len(f.batch) == 0 {
		b, ok := <-f.ch
		if !ok {
			return nil, false
		}
		f.batch = b
	}
	p := f.batch[0]
	f.batch = f.batch[1:]
	return p, true
}

// produce prepares requests ahead of the pacer, off its thread. A batch goes
// out when full, or at once when the pacer has nothing queued (at the start,
// or when the schedule is slower to read than to send).
func (r *run) produce(ctx context.Context, sched Schedule) (*feed, *error) {
	f := &feed{ch: make(chan []*pending, 16)}
	var err error
	pr := newPreparerFor(r.cfg)
	r.leases = pr.subst.leases
	if err := pr.subst.usePool(r.cfg); err != nil {
		r.stop(err.Error())
	}
	r.lender = pr.subst.lender
	lean := r.cfg.usesLean()
	paced := false
	if ps, ok := sched.(Paced); ok {
		paced = ps.Paced()
	}
	go func() {
		defer close(f.ch)
		batch := make([]*pending, 0, produceBatch)
		flush := func() bool {
			select {
			case f.ch <- batch:
				batch = make([]*pending, 0, produceBatch)
				return true
			case <-ctx.Done():
				return false
			}
		}
		defer func() {
			if len(batch) > 0 {
				flush()
			}
		}()
		for !r.stopping.Load() {
			req, e := sched.Next()
			if errors.Is(e, io.EOF) {
				return
			}
			if e != nil {
				err = e
				r.stop("schedule: " + e.Error())
				return
			}
			p := pr.prepare(req)
			if r.nets != nil {
				p.rnet = r.nets.of(p.result.Region)
			}
			p.cut = req.Exchange.BodyTruncated && !r.cfg.SendTruncated
			if lean {
				p.wire = pr.appendWire(make([]byte, 0, 256+len(p.body)), p)
			}
			p.done = r.complete
			batch = append(batch, p)
			if p.halt != "" {
				return // the pacer stops the run at p's time (pool.go)
			}
			if (paced || len(batch) == cap(batch) || len(f.ch) == 0) && !flush() {
				return
			}
		}
	}()
	return f, &err
}

// earlySend is how early the pacer sends rather than sleep: the precise
// clock wakes ≈ 40–90 µs after its deadline, so a request due within 20 µs
// goes now (its lateness is then slightly negative, and recorded as such).
const earlySend = 20 * time.Microsecond

// pacerPolled is a driver whose responses the pacer reads on its own
// wake-ups while it sends at a high rate (the lean driver).
type pacerPolled interface {
	setPacing(on bool)
	pollNow()
}

// pacerPollWindow is how long the pacer sleeps at most while it reads the
// responses itself (so how late, at most, it may read one); before a longer
// sleep it hands reading back to the driver's own poller.
const pacerPollWindow = 250 * time.Microsecond

// pace hands each request to send at its time, from the clock's thread.
func (r *run) pace(first *pending, ready *feed, send func(p *pending, now time.Duration)) {
	pp, _ := r.drv.(pacerPolled)
	if pp != nil {
		pp.setPacing(true)
		defer pp.setPacing(false)
	}
	var lastPoll time.Duration
	next := ready.next
	if pp != nil {
		next = func() (*pending, bool) {
			if len(ready.batch) == 0 && len(ready.ch) == 0 {
				// The producer is behind (a Paced schedule waits for
				// the clock): the driver's poller reads and writes
				// while the pacer waits for the next request.
				pp.setPacing(false)
				defer pp.setPacing(true)
			}
			return ready.next()
		}
	}
	for p, ok := first, first != nil; ok; p, ok = next() {
		now := r.clk.now()
		// Sleep only when the request is not due within the clock's
		// precision; otherwise send everything due now. Long waits are cut
		// in slices so a stop is noticed.
		for p.at-now > earlySend && !r.stopping.Load() {
			until := min(p.at, now+100*time.Millisecond)
			if pp != nil && until-now > pacerPollWindow {
				pp.setPacing(false)
				r.clk.sleepUntil(until)
				pp.setPacing(true)
			} else {
				r.clk.sleepUntil(until)
			}
			now = r.clk.now()
			if pp != nil {
				pp.pollNow()
				lastPoll = now
			}
		}
		if pp != nil && now-lastPoll > pacerPollWindow {
			// Behind schedule, sending without sleeping: read anyway.
			pp.pollNow()
			lastPoll = now
		}
		if p.halt != "" {
			r.stop(p.halt)
		}
		if r.stopping.Load() {
			r.dropAfterStop(p, now)
			continue
		}
		send(p, now)
	}
}

// dispatch applies the deadline and the cap and sends p (timeline mode).
func (r *run) dispatch(p *pending, now time.Duration) {
	if class := r.admit(p, now); class != "" {
		r.drop(p, now, class)
		return
	}
	r.send(p, now)
}

// send hands p to the driver at now; it is in flight until its result is
// collected. The generator's lateness ends here: what follows (waiting for a
// connection, connecting) is the client's queueing and the target's connect.
func (r *run) send(p *pending, now time.Duration) {
	p.handed = now
	p.inflight = true
	r.inflight.Add(1)
	if p.ws != nil && r.ws != nil {
		r.ws.start(p)
		return
	}
	r.drv.send(p)
}

// admit returns the drop class for p at now, or "" to send it.
func (r *run) admit(p *pending, now time.Duration) string {
	if p.cut {
		return schema.DroppedTruncated
	}
	if ml := r.cfg.maxLateness(); ml > 0 && now-p.at > ml {
		return schema.DroppedDeadline
	}
	// The cap counts a request at its intended time when the pacer sends it
	// a little early, so a schedule exactly at the cap passes.
	if r.capAllows != nil && !r.capAllows(max(now, p.at)) {
		return schema.DroppedCap
	}
	return ""
}
