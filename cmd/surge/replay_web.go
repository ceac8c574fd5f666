package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/report/web"
	"github.com/surge-replay/surge/schema"
)

// replayWeb is a run's web listener (--web): Prometheus metrics, the live
// view and the stop control. A nil *replayWeb does nothing, so the run's
// code calls it unconditionally.
type replayWeb struct {
	srv     *web.Server
	metrics *web.Metrics
	linger  time.Duration
	stderr  io.Writer

	mu    sync.Mutex
	live  *replay.Live       // the run's live control, if any
	final *report.RunSummary // the settled summary, once the run ended
	start time.Time
	total time.Duration
	quit  chan struct{} // closed by a stop after the run ended: ends the linger
	qonce sync.Once
}

// startWeb starts the listener of --web, if asked for. agg and tl are the
// run's report so far; ratio the run's ratio; idle its session idle gap.
// changes, when not nil, returns the ratio's changes so far (live
// control): the running page's header shows them.
func (o *replayOptions) startWeb(stderr io.Writer, agg *report.Aggregator, tl *report.Timeline, ratio float64, idle, total time.Duration,
	changes func() []report.RatioChange) (*replayWeb, error) {
	if o.web == "" {
		return nil, nil
	}
	w := &replayWeb{metrics: web.NewMetrics(idle), linger: o.webLinger, stderr: stderr, total: total, quit: make(chan struct{})}
	w.metrics.SetRatio(ratio)
	w.srv = &web.Server{Addr: o.web, Token: o.webToken, Metrics: w.metrics, Page: func() *report.HTMLReport {
		w.mu.Lock()
		final := w.final
		w.mu.Unlock()
		if final == nil {
			s := agg.Summary()
			if changes != nil {
				s.RatioChanges = changes()
			}
			return &report.HTMLReport{Summary: s, Series: tl.Series(), Running: true}
		}
		return &report.HTMLReport{Summary: final, Series: tl.Series()}
	}}
	if err := w.srv.Start(); err != nil {
		return nil, &exitError{exitUsage, fmt.Errorf("--web: %w", err)}
	}
	w.srv.SetState("waiting for the run to start")
	fmt.Fprintf(stderr, "web: live view %s, Prometheus metrics %smetrics\n", w.srv.URL(), baseURL(w.srv.URL()))
	return w, nil
}

func baseURL(u string) string {
	for i := range u {
		if u[i] == '?' {
			return u[:i]
		}
	}
	return u
}

// observe feeds one result to the metrics.
func (w *replayWeb) observe(r *schema.Result) {
	if w != nil {
		w.metrics.Observe(r)
	}
}

// started records the run's start, for the live page's state.
func (w *replayWeb) started(t time.Time) {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.start = t
	w.mu.Unlock()
}

// attachControl gives the live view the run's control API (pause, resume,
// ratio: the page's controls call it under /control/v1/run). The
// surge_ratio gauge follows changes through the Live's OnChange
// (replay_run.go), whoever made them.
func (w *replayWeb) attachControl(live *replay.Live, token string) {
	if w == nil || live == nil {
		return
	}
	w.mu.Lock()
	w.live = live
	w.mu.Unlock()
	w.srv.SetControl(&replay.ControlHandler{Live: live, Token: token})
}

// attach gives the live view the run's stop (through the live gate, as an
// abort "stopped from the live view") and updates its state line every
// second until done.
func (w *replayWeb) attach(live *liveGate, done <-chan struct{}) {
	if w == nil {
		return
	}
	w.srv.SetStop(func() {
		w.mu.Lock()
		ended := w.final != nil
		w.mu.Unlock()
		if ended { // the run is over: a stop ends the linger
			w.qonce.Do(func() { close(w.quit) })
			return
		}
		fmt.Fprintln(w.stderr, "\nsurge: stopping (from the live view): requests in flight may finish")
		live.stopWith("stopped from the live view")
	})
	go func() {
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				w.mu.Lock()
				start, live := w.start, w.live
				w.mu.Unlock()
				if live != nil && !start.IsZero() {
					// Paused time does not advance the schedule.
					if st := live.State(); st.State == "paused" {
						w.srv.SetState(fmt.Sprintf("paused at %s of %s", fmtClock(st.OffsetNS), fmtClock(w.total)))
						continue
					}
				}
				if !start.IsZero() {
					w.srv.SetState(fmt.Sprintf("running %s of %s", fmtClock(time.Since(start)), fmtClock(w.total)))
				}
			}
		}
	}()
}

func fmtClock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// finish shows the run's final report, keeps serving it for --web-linger
// (or until Ctrl-C, or a stop from the live view), then closes the listener.
func (w *replayWeb) finish(ctx context.Context, s *report.RunSummary) {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.final = s
	w.mu.Unlock()
	w.srv.SetState("ended: " + s.Outcome)
	w.srv.End()
	if w.linger > 0 {
		fmt.Fprintf(w.stderr, "web: run ended; serving the final report and metrics on %s for %s (Ctrl-C to quit)\n", w.srv.URL(), w.linger)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		select {
		case <-time.After(w.linger):
		case <-w.quit:
		case <-sig:
		case <-ctx.Done():
		}
		signal.Stop(sig)
	}
	w.close()
}

// close stops the listener (a run that ended early, by an error, too).
func (w *replayWeb) close() {
	if w == nil {
		return
	}
	cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	w.srv.Close(cctx)
}

// stopWith stops the run as an abort with reason, unless it already
// stopped.
func (l *liveGate) stopWith(reason string) {
	l.mu.Lock()
	if l.reason == "" {
		l.reason = reason
	}
	l.mu.Unlock()
	l.close()
}
