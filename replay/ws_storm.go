package replay

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/surge-replay/surge/replay/storm"
	"github.com/surge-replay/surge/shaper"
)

// Reconnect storms in the WebSocket engine (docs/WEBSOCKET.md, "Reconnect
// storms"): WSConfig.Storms are fired by a storm.Runner on the run's clock.
// A drop storm closes its fraction of the live connections through the
// registry, each dropped client with its own reconnect delays; a restart
// storm POSTs its path on the target, and for restartWindow after it every
// connection the target closes reconnects by the storm's policy, its
// delays its own too.

// restartWindow is how long after a restart request the target's closes
// count as the restart's.
const restartWindow = 5 * time.Second

// wsStorms is the engine's storm state.
type wsStorms struct {
	runner *storm.Runner
	mu     sync.Mutex
	// restart is the latest restart storm and when it fired (run clock).
	restart   *shaper.Storm
	restartAt time.Duration
}

// startStorms runs the configured storms until the run ends; nil when
// there are none.
func (e *wsEngine) startStorms() {
	if len(e.cfg.Storms) == 0 {
		return
	}
	st := &wsStorms{}
	e.storms = st
	st.runner = &storm.Runner{
		Storms: e.cfg.Storms,
		Seed:   e.cfg.StormSeed,
		Conns:  stormConns{e.conns},
		Clock: func(ctx context.Context, at time.Duration) error {
			if d := at - e.r.clk.now(); d > 0 && !e.sleep(d) {
				return context.Canceled
			}
			return ctx.Err()
		},
		Restart: func(ctx context.Context, path string) error { return e.restartTarget(ctx, path) },
	}
	go st.runner.Run(e.ctx)
}

// StormsFired returns the storms the engine fired so far.
func (e *wsEngine) stormsFired() []storm.Fired {
	if e == nil || e.storms == nil {
		return nil
	}
	return e.storms.runner.Fired()
}

// restartTarget POSTs path on the run's target (the target of the run is
// on the allowlist already) and opens the restart window.
func (e *wsEngine) restartTarget(ctx context.Context, path string) error {
	st := e.storms
	for i := range e.cfg.Storms {
		if s := &e.cfg.Storms[i]; s.Restart == path && s.Offset <= e.r.clk.now() {
			st.mu.Lock()
			st.restart, st.restartAt = s, e.r.clk.now()
			st.mu.Unlock()
		}
	}
	u := *e.r.cfg.Target
	u.Path, u.RawQuery = "", ""
	ctx, cancel := context.WithTimeout(ctx, e.r.cfg.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String()+path, nil)
	if err != nil {
		return fmt.Errorf("storm: restart %s: %w", path, err)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return fmt.Errorf("storm: restart %s: %w", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("storm: restart %s: the target answered %s", path, resp.Status)
	}
	return nil
}

// targetReconnect is the reconnect of a client whose connection the target
// closed: the restart storm's, its own (seeded by its virtual session),
// within restartWindow of a restart; else WSConfig's.
func (e *wsEngine) targetReconnect(wc *wsConn) Backoff {
	if st := e.storms; st != nil {
		st.mu.Lock()
		s, at := st.restart, st.restartAt
		st.mu.Unlock()
		if s != nil && e.r.clk.now()-at <= restartWindow {
			return Backoff(storm.ReconnectFor(s, e.cfg.StormSeed, wc.key))
		}
	}
	return e.cfg.reconnect()
}

// stormConns is the registry as a storm.Conns.
type stormConns struct{ w *WSConns }

// Drop drops through the registry, each dropped client with the policy of
// its place in the registry's (deterministic) drop order.
func (c stormConns) Drop(fraction float64, class string, reconnect func(key string) storm.Reconnect) (int, error) {
	n := 0
	return c.w.DropEach(fraction, class, func() Backoff {
		n++
		return Backoff(reconnect(strconv.Itoa(n)))
	})
}
