package replay

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
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
// closed before its recorded end: the restart storm's, per client, within
// restartWindow of a restart; else WSConfig.Reconnect.
func (e *wsEngine) targetReconnect(wc *wsConn) Backoff {
	if st := e.storms; st != nil {
		st.mu.Lock()
		s, at := st.restart, st.restartAt
		st.mu.Unlock()
		if s != nil && e.r.clk.now()-at <= restartWindow {
			return Backoff(storm.ReconnectFor(s, e.cfg.StormSeed, wc.key))
		}
	}
	return e.cfg.Reconnect
}

// stormConns is the registry as a storm.Conns.
type stormConns struct{ w *WSConns }

func (c stormConns) Drop(fraction float64, class string, reconnect func(client string) storm.Reconnect) (int, error) {
	return c.w.DropEach(fraction, class, func(client string) Backoff { return Backoff(reconnect(client)) })
}

// DropEach is Drop with a reconnect policy per client: each dropped
// connection's client reconnects by backoffFor(its virtual session) (nil:
// it does not). The connections are those Drop's comment says.
func (w *WSConns) DropEach(fraction float64, class string, backoffFor func(client string) Backoff) (int, error) {
	if !(fraction > 0 && fraction <= 1) {
		return 0, fmt.Errorf("%w: %v", ErrBadFraction, fraction)
	}
	w.mu.Lock()
	var pick []*wsConn
	for c := range w.live {
		if class == "" || c.class == class {
			pick = append(pick, c)
		}
	}
	w.mu.Unlock()
	sort.Slice(pick, func(i, j int) bool {
		if pick[i].hash != pick[j].hash {
			return pick[i].hash < pick[j].hash
		}
		return pick[i].key < pick[j].key
	})
	n := int(math.Round(fraction * float64(len(pick))))
	dropped := 0
	for _, c := range pick[:n] {
		var b Backoff
		if backoffFor != nil {
			b = backoffFor(c.key)
		}
		if c.drop(b) {
			dropped++
		}
	}
	return dropped, nil
}
