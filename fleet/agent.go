package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/schema"
)

// AgentConfig configures an Agent. Brokers and Group are required; every
// other zero value works.
type AgentConfig struct {
	Topics
	// Group names the fleet: for run RUN its agents join the consumer
	// group GROUP.RUN over the run's capture topic.
	Group string
	// ID names this agent in reports. Empty means HOSTNAME-PID.
	ID string
	// Allow lists the hosts, IPs and CIDR prefixes a run's target may
	// resolve to (as surge replay's --allow). Empty means loopback only.
	// A run whose target is not allowed is refused, and the refusal
	// published on the results topic.
	Allow []string
	// Lookahead is how far ahead of the clock the agent shapes. Zero means
	// DefaultLookahead.
	Lookahead time.Duration
	// Log receives one line per thing the agent does. Nil means none.
	Log io.Writer
	// OnControl, when set, is called for every control event applied to a
	// run this agent takes part in, when it is applied (tests measure the
	// delivery time with it).
	OnControl func(e Event, applied time.Time)
	// Results, when set, sees every result this agent collects (tests).
	Results func(run string, r *schema.Result)
}

// Agent is one replay agent of a fleet: it follows the control topic and
// takes part in every run that starts while it runs.
//
//	a, err := fleet.NewAgent(fleet.AgentConfig{Topics: fleet.Topics{Brokers: b}, Group: "fleet"})
//	...
//	err = a.Run(ctx) // until ctx ends
type Agent struct {
	cfg AgentConfig
	mu  sync.Mutex
	log io.Writer
}

// NewAgent checks cfg and returns an Agent.
func NewAgent(cfg AgentConfig) (*Agent, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("fleet agent: no brokers")
	}
	if cfg.Group == "" {
		return nil, errors.New("fleet agent: no group")
	}
	if cfg.ID == "" {
		h, _ := os.Hostname()
		cfg.ID = h + "-" + strconv.Itoa(os.Getpid())
	}
	if cfg.Lookahead <= 0 {
		cfg.Lookahead = DefaultLookahead
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	return &Agent{cfg: cfg, log: cfg.Log}, nil
}

func (a *Agent) logf(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fmt.Fprintf(a.log, "%s agent %s: %s\n", time.Now().UTC().Format("15:04:05.000"), a.cfg.ID, fmt.Sprintf(format, args...))
}

// Run follows the control topic from its beginning until ctx ends, taking
// part in each run whose schedule has not ended yet. It returns ctx's error,
// or the error that kept it from reading the control topic.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.cfg.Topics.Ensure(ctx); err != nil {
		return err
	}
	recs, _, err := a.cfg.Topics.Watch(ctx)
	if err != nil {
		return err
	}
	a.logf("following %s (group %s, allow %v)", a.cfg.control(), a.cfg.Group, allowed(a.cfg.Allow))
	runs := map[string]*liveState{}
	var wg sync.WaitGroup
	defer wg.Wait()
	for rec := range recs {
		if rec.Err != nil {
			a.logf("control record %d skipped: %v", rec.Offset, rec.Err)
			continue
		}
		e := rec.Event
		l := runs[e.Run]
		if e.Op == OpStart && l == nil {
			st, err := State{}.Apply(e)
			if err != nil {
				a.logf("run %s not started: %v", e.Run, err)
				continue
			}
			l = newLiveState(st)
			runs[e.Run] = l
			if end, _ := st.End(); time.Since(end) > 0 {
				continue // over before we came: its state is kept for later events
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				a.run(ctx, l)
			}()
			continue
		}
		if l == nil {
			a.logf("control event %s of unknown run %s skipped", e.Op, e.Run)
			continue
		}
		if _, err := l.apply(e); err != nil {
			a.logf("%v", err)
			continue
		}
		now := time.Now()
		if a.cfg.OnControl != nil {
			a.cfg.OnControl(e, now)
		}
		a.logf("run %s: %s applied %v after it was issued (takes effect %v from now)", e.Run, e.Op, now.Sub(e.Issued).Round(time.Millisecond), e.At.Sub(now).Round(time.Millisecond))
	}
	return ctx.Err()
}

func allowed(allow []string) []string {
	if len(allow) == 0 {
		return []string{"loopback"}
	}
	return allow
}

// run takes part in one run until its schedule has ended (and every
// generation's requests are done) or ctx ends.
func (a *Agent) run(ctx context.Context, l *liveState) {
	st, _ := l.get()
	spec := st.Spec
	pub := newPublisher(a.cfg.Topics, spec, a.cfg.ID)
	defer pub.close()
	if err := a.checkTarget(ctx, spec); err != nil {
		a.logf("run %s refused: %v", spec.Run, err)
		pub.update(func(r *AgentReport) { r.Refused = err.Error() })
		if err := pub.publish(ctx, true); err != nil {
			a.logf("run %s: %v", spec.Run, err)
		}
		return
	}
	// The session sets exits send users to: read from the capture topic
	// before the run, the same on every agent.
	began := time.Now()
	sets, err := collectSets(ctx, spec)
	if err != nil {
		a.logf("run %s refused: %v", spec.Run, err)
		pub.update(func(r *AgentReport) { r.Refused = err.Error() })
		if err := pub.publish(ctx, true); err != nil {
			a.logf("run %s: %v", spec.Run, err)
		}
		return
	}
	if sets != nil {
		l.sets = sets
		a.logf("run %s: session sets collected in %v (%d sets)", spec.Run, time.Since(began).Round(time.Millisecond), len(sets))
	}
	clk, err := measureClock(ctx, a.cfg.Topics, a.cfg.ID, 5, time.Now)
	if err != nil {
		a.logf("run %s: clock: %v", spec.Run, err)
	}
	pub.update(func(r *AgentReport) {
		r.ClockOffsetNS, r.ClockRTTNS, r.ClockKnown = int64(clk.offset), int64(clk.rtt), clk.known
	})
	a.logf("run %s: joining; clock offset %v (rtt %v); starts in %v", spec.Run, clk.offset, clk.rtt, time.Until(spec.StartAt).Round(time.Millisecond))

	pubCtx, stopPub := context.WithCancel(context.Background())
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				if err := pub.publish(pubCtx, false); err != nil && pubCtx.Err() == nil {
					a.logf("run %s: %v", spec.Run, err)
				}
			case <-pubCtx.Done():
				return
			}
		}
	}()
	err = a.group(ctx, l, pub)
	stopPub()
	<-pubDone
	if err != nil {
		a.logf("run %s: %v", spec.Run, err)
		pub.update(func(r *AgentReport) { r.Error = err.Error() })
	}
	// The final report goes out even when ctx ended.
	fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pub.publish(fctx, true); err != nil {
		a.logf("run %s: final report: %v", spec.Run, err)
	}
	a.logf("run %s: done", spec.Run)
}

// checkTarget applies the agent's own allowlist to the run's target.
func (a *Agent) checkTarget(ctx context.Context, spec *RunSpec) error {
	u, err := url.Parse(spec.Target)
	if err != nil {
		return fmt.Errorf("target %q: %v", spec.Target, err)
	}
	return replay.CheckTarget(ctx, u, a.cfg.Allow)
}

// settle is how long after a run's last scheduled request an agent stays
// in the group, so that no member's leaving moves partitions while another
// still sends.
const settle = 2 * time.Second

// group is the agent's membership of the run's consumer group: one replay
// per generation over the partitions it assigns, until the run's end.
func (a *Agent) group(ctx context.Context, l *liveState, pub *publisher) error {
	st, _ := l.get()
	spec := st.Spec
	addr, err := kafkalog.ParseAddr(spec.Capture)
	if err != nil {
		return err
	}
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID: a.cfg.Group + "." + spec.Run, Brokers: addr.Brokers, Topics: []string{addr.Topic},
		HeartbeatInterval: 300 * time.Millisecond, SessionTimeout: 6 * time.Second,
		RebalanceTimeout: 5 * time.Second, JoinGroupBackoff: 200 * time.Millisecond,
		StartOffset: kafka.FirstOffset, Timeout: 5 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("consumer group: %w", err)
	}
	defer cg.Close()
	// runCtx ends when the run is over for every agent: its schedule's end
	// (moved by pauses, or the stop) plus settle, once the group has
	// handled every partition (see awaitFinished).
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer cancel()
		for {
			st, changed := l.get()
			end, ok := st.End()
			if !ok {
				end = time.Now().Add(24 * time.Hour) // paused: wait for a change
			}
			t := time.NewTimer(time.Until(end.Add(settle)))
			select {
			case <-t.C:
				if !st.Stopped(time.Now()) {
					a.awaitFinished(runCtx, l, addr, spec, pub)
				}
				return
			case <-changed:
			case <-runCtx.Done():
			}
			t.Stop()
			if runCtx.Err() != nil {
				return
			}
		}
	}()
	var events atomic.Int64
	var counts takeoverCounts
	track := newTracker(spec.spread())
	gens := 0
	for {
		gen, err := cg.Next(runCtx)
		if err != nil {
			if runCtx.Err() != nil {
				return nil
			}
			// A rebalance under way, a coordinator moving: kafka-go says so
			// and expects to be asked again.
			a.logf("run %s: consumer group: %v; joining again", spec.Run, err)
			select {
			case <-time.After(200 * time.Millisecond):
			case <-runCtx.Done():
				return nil
			}
			continue
		}
		gens++
		parts := gen.Assignments[addr.Topic]
		ids := make([]int, len(parts))
		for i, p := range parts {
			ids[i] = p.ID
		}
		sort.Ints(ids)
		pub.update(func(r *AgentReport) { r.Partitions, r.Generations = ids, gens })
		a.logf("run %s: generation %d: partitions %v", spec.Run, gen.ID, ids)
		done := make(chan error, 1)
		gen.Start(func(gctx context.Context) {
			done <- a.generation(runCtx, gctx, gen, addr, parts, l, pub, track, &events, &counts)
		})
		if err := <-done; err != nil {
			return err
		}
	}
}

// setupPatience is how long an agent retries the requests that start a
// generation (offsets by time, committed marks) before it gives up on the
// run. A broker lost from a cluster answers errors for seconds while its
// partitions elect new leaders (seen: UNKNOWN_SERVER_ERROR to ListOffsets,
// which kafka-go does not call temporary), and the group coordinator moves.
const setupPatience = 30 * time.Second

// retry calls fn until it returns nil, ctx ends or setupPatience has
// passed, 200 ms to 1 s apart, logging each failure.
func (a *Agent) retry(ctx context.Context, run string, fn func() error) error {
	deadline := time.Now().Add(setupPatience)
	pause := 200 * time.Millisecond
	for {
		err := fn()
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		a.logf("run %s: %v; trying again in %v", run, err, pause)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// awaitFinished waits, past the schedule's end, until the run's group has
// committed every partition through the window's end: a broker or agent
// down past the end leaves partitions that a member replays (late) once it
// owns them again, and leaving the group before that would lose them. It
// gives up after overrun and puts what was left in the agent's report; a
// stop ends the wait.
func (a *Agent) awaitFinished(ctx context.Context, l *liveState, addr kafkalog.Addr, spec *RunSpec, pub *publisher) {
	group := a.cfg.Group + "." + spec.Run
	deadline := time.Now().Add(overrun)
	for logged := false; ; {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		left, parts, err := unfinished(qctx, addr, group, spec.WindowFrom, spec.WindowTo)
		cancel()
		if err == nil && left == 0 {
			return
		}
		if st, _ := l.get(); st.Stopped(time.Now()) {
			return // stopped while waiting: what is left is the stop's
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("gave up %v after the schedule's end: partitions %v unfinished, %d records never replayed", overrun, parts, left)
			if err != nil {
				msg = fmt.Sprintf("gave up %v after the schedule's end: cannot tell what is unfinished: %v", overrun, err)
			}
			a.logf("run %s: %s", spec.Run, msg)
			pub.update(func(r *AgentReport) { r.Error = msg })
			return
		}
		if !logged {
			if err != nil {
				a.logf("run %s: schedule ended; waiting for the brokers to tell what is unfinished: %v", spec.Run, err)
			} else {
				a.logf("run %s: schedule ended with partitions %v unfinished (%d records): staying until they are replayed", spec.Run, parts, left)
			}
			logged = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// generation replays the generation's partitions until they are read to
// the window's end and every request is done, or the generation ends
// (gctx: a rebalance), or the run ends (runCtx); it commits offsets as the
// results come in, and waits for the generation's end before it returns.
func (a *Agent) generation(runCtx, gctx context.Context, gen *kafka.Generation, addr kafkalog.Addr,
	parts []kafka.PartitionAssignment, l *liveState, pub *publisher, track *tracker, events *atomic.Int64, counts *takeoverCounts) error {
	st, _ := l.get()
	spec := st.Spec
	var sp []span
	err := a.retry(gctx, spec.Run, func() (err error) {
		sp, err = spans(gctx, addr, parts, spec.WindowFrom, spec.WindowTo)
		return err
	})
	if err != nil {
		if gctx.Err() != nil {
			return nil
		}
		return err
	}
	group := a.cfg.Group + "." + spec.Run
	var marks map[int]time.Time
	err = a.retry(gctx, spec.Run, func() (err error) {
		marks, err = fetchMarks(gctx, addr.Brokers, group, addr.Topic, parts)
		return err
	})
	if err != nil {
		if gctx.Err() != nil {
			return nil
		}
		return err
	}
	var sched *gated
	// commit commits every partition's position with its mark: how far
	// its requests have been sent, never below the mark it resumed from.
	commit := func() error {
		now := time.Now()
		offs := track.positions(sp)
		out := map[int]time.Time{}
		for p := range offs {
			m := marks[p]
			if s := sched.sentThrough(now); s.After(m) {
				m = s
			}
			out[p] = m
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := commitMarks(ctx, addr.Brokers, gen, addr.Topic, a.cfg.ID, offs, out)
		if err != nil {
			a.logf("run %s: commit %v: %v", spec.Run, offs, err)
		}
		return err
	}
	track.restart()
	readCtx, stopRead := context.WithCancel(gctx)
	defer stopRead()
	src := newMerged(readCtx, addr, sp)
	sched, err = newGated(readCtx, l, spec, a.cfg.Lookahead, src, track, marks, counts, func() {
		events.Add(1)
	})
	if err != nil {
		return err
	}
	eng, err := spec.engine()
	if err != nil {
		return err
	}
	eng.Allow, eng.Start, eng.Grace = a.cfg.Allow, spec.StartAt, time.Second
	if spec.late() == LateSend {
		eng.MaxLateness = -1
	}
	eng.SessionIdle = 30 * time.Minute
	stop := make(chan struct{})
	replayDone := make(chan struct{})
	go func() {
		select {
		case <-gctx.Done():
			close(stop) // a rebalance: stop sending, commit, leave the generation
		case <-replayDone:
		}
	}()
	committerDone := make(chan struct{})
	go func() {
		defer close(committerDone)
		t := time.NewTicker(commitEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				st, _ := l.get()
				track.commits(st)
				commit()
				pub.update(func(r *AgentReport) { r.Events = events.Load(); counts.report(r) })
			case <-replayDone:
				return
			}
		}
	}()
	emit := func(r *schema.Result) {
		pub.add(r)
		track.result(r)
		if a.cfg.Results != nil {
			a.cfg.Results(spec.Run, r)
		}
	}
	rst, runErr := replay.Run(runCtx, eng, sched, stop, emit)
	close(replayDone)
	<-committerDone
	st, _ = l.get()
	if gctx.Err() == nil || st.Stopped(time.Now()) {
		track.finish(sp) // read to the end, or stopped: nothing left
	} else {
		track.commits(st)
	}
	err = commit()
	pub.update(func(r *AgentReport) { r.Events = events.Load(); counts.report(r) })
	if rst != nil {
		a.logf("run %s: generation %d: scheduled %d, sent %d, dropped %d", spec.Run, gen.ID, rst.Scheduled, rst.Sent, rst.Dropped)
	}
	if runErr != nil && !errors.Is(runErr, replay.ErrStopped) {
		return runErr
	}
	// Stay in the generation until it ends (a rebalance) or the run does,
	// committing again until the brokers take the commit: the run ends
	// only when every partition is committed through the window's end.
	for committed := err == nil; ; {
		select {
		case <-gctx.Done():
			return nil
		case <-runCtx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
			if !committed {
				committed = commit() == nil
			}
		}
	}
}
