package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-replay/surge/accounts"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// Modes of a run.
const (
	// Timeline sends every request at its scheduled time (open loop).
	Timeline = "timeline"
	// Closed sends a session's next request after the previous response,
	// plus the recorded think time (but never before its scheduled time).
	Closed = "closed"
)

// Drivers.
const (
	DriverAuto = "auto" // lean for plain http:// targets, net/http otherwise
	DriverLean = "lean" // the lean HTTP/1.1 client
	DriverHTTP = "http" // net/http (HTTP/2, TLS)
)

// Config configures a run. Target is required; every other zero value works.
type Config struct {
	// Target is the base URL requests are sent to (scheme and host; the
	// recorded path and query are kept).
	Target *url.URL
	// Allow lists the hosts, IPs and CIDR prefixes the target may resolve
	// to. Empty means loopback only.
	Allow []string
	// Mode is Timeline (default) or Closed.
	Mode string
	// Driver is DriverAuto (default), DriverLean or DriverHTTP.
	Driver string
	// HTTP2 asks net/http for HTTP/2 (TLS targets negotiate it anyway).
	HTTP2 bool
	// Insecure skips TLS certificate checks (staging often has its own CA).
	Insecure bool
	// Conns is the connection model: ConnsPerUser (default: each virtual
	// user its own connections, as a browser: HTTP/1.1 up to 6, HTTP/2 one
	// multiplexed) or ConnsShared (one pool for all, as vegeta and wrk).
	Conns string
	// MaxConns bounds open connections in all. Zero means 512 with a shared
	// pool and 16384 per user; per user, when the bound is reached, the
	// connection idle longest (another user's) is closed for a new one.
	MaxConns int
	// PerUser is the old spelling of Conns: ConnsPerUser (now the default).
	PerUser bool
	// Pipeline is how many requests the lean driver may have in flight on
	// one HTTP/1.1 connection. Zero or 1 means no pipelining: a request
	// never waits behind another on a connection.
	Pipeline int
	// Timeout bounds each request from its send. Zero means 30 s.
	Timeout time.Duration
	// MaxRPS caps the send rate; requests over it are dropped (and counted).
	// Zero means no cap.
	MaxRPS float64
	// MaxLateness drops a request the generator could not send within this
	// much of its scheduled time. Zero means 10 s; negative never drops.
	MaxLateness time.Duration
	// Abort stops the run early when its condition holds. Nil means never.
	Abort *AbortRule
	// Grace is how long a stopped run waits for requests in flight before
	// cutting them. Zero means 10 s.
	Grace time.Duration
	// Accounts are test accounts for placeholder substitution, leased
	// exclusively to live virtual users.
	Accounts []Account
	// Pool, when set, is a pool built from viewing histories
	// (docs/ACCOUNTS.md) used instead of Accounts: clone k of recorded user
	// u signs in as one of u's accounts, leased exclusively (pool.go).
	Pool *accounts.Pool
	// AccountsExhausted is what happens when a virtual user finds no free
	// account: accounts.ExhaustedShare (default: share one, counted) or
	// accounts.ExhaustedStop (stop the run at that request's time).
	AccountsExhausted string
	// Secrets fill placeholders shared by many users (an app key): keyed by
	// the placeholder ("{{secret:…}}") or by the header or query parameter
	// name it is in (case-insensitive).
	Secrets map[string]string
	// SessionIdle is how long (schedule time) a virtual user without a
	// request keeps its leased account: the session gap scaled by the
	// speed. Zero means 30 min.
	SessionIdle time.Duration
	// SendTruncated sends a request whose body the capture kept in part
	// with the bytes kept (and a matching Content-Length). By default such
	// a request is not sent and counted as dropped_truncated.
	SendTruncated bool
	// GoClock uses Go timers instead of the precise pacer clock (for tests
	// under testing/synctest, and platforms other than Linux).
	GoClock bool
	// Started, when set, is called with the run's start time before the
	// first request (for progress lines).
	Started func(start time.Time)
	// Start, when set, is the wall time offset 0 of the schedule stands
	// for (a fleet's agents share one start); zero means when the run
	// starts its clock. A Start in the past makes the requests due before
	// now late, and MaxLateness applies to them as to any.
	Start time.Time
	// Regions are the per-region DNS of the run (docs/REGIONS.md): a
	// virtual session whose region (Result.Region: recorded, or assigned
	// by the shaper) is listed resolves the target through that region's
	// resolvers, from its source address, on connections of its region
	// only; sessions of other regions use the region named DefaultRegion,
	// or else the machine's resolver as without regions. Nil means no
	// regions: the target is resolved once, by the machine.
	Regions []Region
	// DNSTTL is how long a region's answer is cached: DNSTTLRecord (zero,
	// the default) the records' TTL, DNSTTLNone never, DNSTTLForever for
	// the run, a positive duration that long (ParseDNSTTL).
	DNSTTL time.Duration

	// testDriver replaces the network driver in tests.
	testDriver func(r *run) driver
	// testExchange replaces the regions' DNS network in tests.
	testExchange dnsExchange
}

// Connection models (Config.Conns).
const (
	ConnsPerUser = "per-user"
	ConnsShared  = "shared"
)

// perUserConns is how many HTTP/1.1 connections a virtual user opens at most,
// as browsers do.
const perUserConns = 6

func (c *Config) shared() bool { return c.Conns == ConnsShared }

// ConnBound is the bound on open connections the engine applies: MaxConns,
// or its default for the connection model (512 shared, 16384 per user).
func (c *Config) ConnBound() int { return c.maxConns() }

func (c *Config) maxConns() int {
	if c.shared() {
		return positive(c.MaxConns, 512)
	}
	return positive(c.MaxConns, 16384)
}

func (c *Config) pipeline() int          { return positive(c.Pipeline, 1) }
func (c *Config) timeout() time.Duration { return positive(c.Timeout, 30*time.Second) }
func (c *Config) grace() time.Duration   { return positive(c.Grace, 10*time.Second) }

func (c *Config) maxLateness() time.Duration {
	if c.MaxLateness == 0 {
		return 10 * time.Second
	}
	return c.MaxLateness
}

func positive[T int | time.Duration | float64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Validate returns every problem with the configuration.
func (c *Config) Validate() []error {
	var errs []error
	if c.Target == nil || c.Target.Host == "" {
		errs = append(errs, errors.New("target: missing (want a URL like http://127.0.0.1:8080)"))
	} else if c.Target.Scheme != "http" && c.Target.Scheme != "https" {
		errs = append(errs, fmt.Errorf("target: scheme %q is not http or https", c.Target.Scheme))
	}
	switch c.Mode {
	case "", Timeline, Closed:
	default:
		errs = append(errs, fmt.Errorf("mode: %q is not %s or %s", c.Mode, Timeline, Closed))
	}
	switch c.Driver {
	case "", DriverAuto, DriverHTTP:
	case DriverLean:
		if !leanSupported {
			errs = append(errs, errors.New("driver: lean needs Linux (epoll); use http"))
		}
		if c.Target != nil && c.Target.Scheme == "https" {
			errs = append(errs, errors.New("driver: lean speaks plain HTTP/1.1 only; use http for https targets"))
		}
	default:
		errs = append(errs, fmt.Errorf("driver: %q is not auto, lean or http", c.Driver))
	}
	switch c.Conns {
	case "", ConnsPerUser, ConnsShared:
	default:
		errs = append(errs, fmt.Errorf("conns: %q is not per-user or shared", c.Conns))
	}
	if c.PerUser && c.Conns == ConnsShared {
		errs = append(errs, errors.New("conns: per-user (--per-user) and shared both asked for"))
	}
	if c.Pipeline < 0 {
		errs = append(errs, fmt.Errorf("pipeline: negative (%d)", c.Pipeline))
	}
	if c.Pipeline > 1 && !c.usesLeanFor() {
		errs = append(errs, errors.New("pipeline: HTTP/1.1 pipelining needs the lean driver (plain http://)"))
	}
	if c.MaxRPS < 0 {
		errs = append(errs, fmt.Errorf("max-rps: negative (%g)", c.MaxRPS))
	}
	switch c.AccountsExhausted {
	case "", accounts.ExhaustedShare, accounts.ExhaustedStop:
	default:
		errs = append(errs, fmt.Errorf("accounts-exhausted: %q is not %s or %s", c.AccountsExhausted, accounts.ExhaustedShare, accounts.ExhaustedStop))
	}
	if c.Abort != nil && (c.Abort.Rate <= 0 || c.Abort.Rate >= 1) {
		errs = append(errs, fmt.Errorf("abort: error rate %g is not between 0 and 1", c.Abort.Rate))
	}
	return append(errs, c.validateRegions()...)
}

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
	if cfg.GoClock {
		r.clk = newGoClock(cfg.Start)
	} else {
		// The pacer's thread spends its time in short clock_nanosleep calls,
		// holding its processor: Go hands a processor off only from a system
		// call it sees on two checks. Everything else (readers, producer,
		// collector) needs a processor of its own, or it starves.
		if prev := runtime.GOMAXPROCS(0); prev < 2 {
			runtime.GOMAXPROCS(2)
			defer runtime.GOMAXPROCS(prev)
		}
		if r.clk, err = newPreciseClock(cfg.Start); err != nil {
			return nil, err
		}
	}
	defer r.clk.close()
	if r.drv, err = r.newDriver(); err != nil {
		return nil, err
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
