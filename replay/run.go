package replay

import (
	"context"
	"sync"
	"time"

	"github.com/surge-replay/surge/schema"
)

// complete takes a finished request from a driver.
func (r *run) complete(p *pending) { r.results <- p }

// drop records p as not sent, for class.
func (r *run) drop(p *pending, now time.Duration, class string) {
	markDropped(p, now, class)
	r.results <- p
}

// markDropped makes p a request that was never sent.
func markDropped(p *pending, now time.Duration, class string) {
	p.sent, p.end = -1, now
	if p.handed == 0 {
		p.handed = now
	}
	p.result.Error = class
}

// dropAfterStop drops p if its time has come; requests still in the future
// when the run stopped were never scheduled.
func (r *run) dropAfterStop(p *pending, now time.Duration) {
	if p.at <= now {
		r.drop(p, now, schema.DroppedAbort)
	}
}

// stop ends the run early for reason (the first reason wins).
func (r *run) stop(reason string) {
	r.stopOnce.Do(func() {
		r.reason.Store(reason)
		r.stopping.Store(true)
		close(r.stopCh)
	})
}

// watch turns the caller's stop and cancel into the run's stop; a cancel
// also cuts requests in flight at once.
func (r *run) watch(ctx context.Context, stop <-chan struct{}, done <-chan struct{}) {
	select {
	case <-stop:
		r.stop("stopped by request (interrupt)")
	case <-ctx.Done():
		r.stop("canceled")
		r.drv.close()
	case <-done:
	}
}

// finish waits for the requests in flight: all of them (each is bounded by
// the timeout) when the schedule ended, Grace when the run was stopped; then
// it closes the driver, which cancels whatever is left.
func (r *run) finish(ctx context.Context) {
	drained := make(chan struct{})
	go func() { r.inflight.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-r.stopCh:
		grace := time.NewTimer(r.cfg.grace())
		select {
		case <-drained:
		case <-grace.C:
		case <-ctx.Done():
		}
		grace.Stop()
	}
	r.drv.close()
	if r.ws != nil {
		r.ws.close()
	}
	<-drained
}

// collect turns completed requests into results, applies the abort rule and
// hands results to emit. It drains the results channel without parking on
// it: a sender finding a parked receiver must wake its thread (a futex call
// and a context switch per result at high rates); finding none, it just
// queues. Between drains it sleeps a tick, longer while idle.
func (r *run) collect() {
	tick := collectTick
	for {
		select {
		case p, ok := <-r.results:
			if !ok {
				return
			}
			r.collectOne(p)
			tick = collectTick
			continue
		default:
		}
		time.Sleep(tick)
		tick = min(2*tick, maxCollectTick)
	}
}

// collectTick and maxCollectTick bound the collector's sleeps: results wait
// at most that long to be counted (the channel holds 8192).
const (
	collectTick    = time.Millisecond
	maxCollectTick = 16 * time.Millisecond
)

// collectOne turns one completed request into its result.
func (r *run) collectOne(p *pending) {
	res := &p.result
	res.Intended = r.clk.wall(p.at)
	res.LatencyNS = int64(p.end - p.at)
	res.LatenessNS = int64(p.handed - p.at)
	if p.assigned >= 0 {
		res.QueueNS = int64(max(p.assigned-p.handed, 0))
	}
	res.ConnectNS = int64(p.connect)
	res.Conn = p.conn
	if p.retry {
		res.Retries = 1
	}
	if p.sent >= 0 {
		sent := r.clk.wall(p.sent)
		res.Sent = &sent
		res.ServiceNS = int64(p.end - p.sent)
		res.BytesOut = int64(len(p.wire))
		if p.wire == nil {
			res.BytesOut = int64(len(p.body))
		}
	}
	dropped := schema.IsDropped(res.Error)
	r.scheduled.Add(1)
	if dropped {
		r.dropped.Add(1)
	} else {
		r.sent.Add(1)
	}
	if r.abort != nil && !dropped && r.abort.add(p.end, res.Error != "" || res.Status >= 500) {
		r.stop("aborted: " + r.cfg.Abort.String())
	}
	r.emit(res)
	if p.inflight {
		r.inflight.Done()
	}
}

// lockedBucket is a bucket shared by closed-loop runners.
type lockedBucket struct {
	mu sync.Mutex
	b  *bucket
}

func (l *lockedBucket) allow(now time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.allow(now)
}
