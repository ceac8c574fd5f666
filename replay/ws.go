package replay

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/surge-replay/surge/internal/keyhash"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// WebSocket replay (docs/WEBSOCKET.md).
//
// A recorded WebSocket upgrade (an exchange with "Upgrade: websocket") that
// the shaper schedules is, with Config.WebSocket set, a connection: the
// pacer hands it over at its scheduled time like any request, and the
// WebSocket engine dials it with github.com/coder/websocket, the recorded
// headers sent (placeholders filled as for HTTP; the Sec-WebSocket-* headers
// are the library's, Sec-WebSocket-Protocol becomes its subprotocols). The
// recorded client messages of the connection (WSConfig.Frames, keyed by
// the upgrade's session and sequence: schema.Frame.Conn) are sent at their
// recorded offsets from the upgrade, divided by WSConfig.Speed; the
// target's messages are read and counted, never replayed. A connection ends
// as recorded (the client's close frame at its offset, or at the recording's
// last frame) or when the target closes it. Clones, per-class ratios and
// content lists come from the shaper as for HTTP sessions: every clone of an
// upgrade is a connection of its own virtual user.
//
// Each connection attempt is one schema.Result (schema.WebSocket facts).
//
// Storms hook in through WSConns: the registry of live connections
// (WSConfig.Conns, made by the caller with NewWSConns and kept to act on
// during the run). Drop (or DropEach, a policy per client) closes a fraction
// of them, or of one class, abruptly, as a network failure would, and each
// dropped client reconnects by the Backoff it is given; WSConfig.Reconnect
// (or NewReconnect) is the policy of a client whose connection the target
// closed or broke (a target restart) or whose first handshake failed. A
// policy is asked with the failures since the client's last open
// connection; a client never reconnects past its recorded life or after
// the run stopped. WSStats (Stats.WebSocket) counts reconnects and clients
// that gave up; every attempt is a result row (WSAttempt).

// Backoff is a reconnect policy: how long a client waits before its
// attempt-th reconnect since its last open connection (1 for the first),
// and false when it gives up instead. A Backoff given to Drop or as
// WSConfig.Reconnect is shared by clients and must be safe for concurrent
// use; one made per client (DropEach, NewReconnect) is called by its client
// alone.
type Backoff func(attempt int) (time.Duration, bool)

// WSConfig configures the WebSocket engine of a run (Config.WebSocket).
// The zero value replays nothing but counts: Frames nil means every
// connection opens, sends no message and closes at once.
type WSConfig struct {
	// Frames holds the recorded messages by connection. Nil: none.
	Frames *FrameIndex
	// Speed is the replay speed the schedule was shaped with (offsets of
	// messages are divided by it). Zero means 1.
	Speed float64
	// Conns is the registry live connections join (for storms). Nil
	// means a private one.
	Conns *WSConns
	// Reconnect is the policy of a client whose connection the target
	// closed (or broke) before its recorded end, or whose first handshake
	// failed. Nil means it does not reconnect.
	Reconnect Backoff
	// NewReconnect, when set, makes each such client a policy of its own
	// (one with state, such as decorrelated jitter's last sleep), in place
	// of Reconnect.
	NewReconnect func() Backoff
	// Checks are the ordering and staleness checks, by route; the first
	// whose Route matches the upgrade's path applies.
	Checks []WSCheck
	// ReadLimit bounds one received message in bytes. Zero means 1 MiB.
	ReadLimit int64
	// Storms are the run's reconnect storms (ws_storm.go), in offset order
	// (shaper.Settings.Storms); StormSeed keys each client's reconnect
	// delays (the run's seed). Nil: none.
	Storms    []shaper.Storm
	StormSeed uint64
}

func (c *WSConfig) speed() float64 { return positive(c.Speed, 1) }

// Validate returns every problem with the configuration.
func (c *WSConfig) Validate() []error {
	var errs []error
	if math.IsNaN(c.Speed) || math.IsInf(c.Speed, 0) || c.Speed < 0 {
		errs = append(errs, fmt.Errorf("websocket: speed %v is not a positive number", c.Speed))
	}
	for i := range c.Checks {
		for _, err := range c.Checks[i].Validate() {
			errs = append(errs, fmt.Errorf("websocket.checks[%d]: %w", i, err))
		}
	}
	return errs
}

// isWebSocket reports whether e is a WebSocket upgrade (RFC 6455 §4.1).
func isWebSocket(e *schema.Exchange) bool {
	if e.Protocol == schema.ProtoWebSocket {
		return true
	}
	up, ok := e.Header("Upgrade")
	return ok && strings.EqualFold(strings.TrimSpace(up), "websocket")
}

// ConnID is the connection id of the upgrade exchange of session seq: what
// schema.Frame.Conn of its messages holds (the tap's and the importers'
// convention).
func ConnID(session string, seq int32) string {
	return fmt.Sprintf("%s#%d", session, seq)
}

// WSConns is the registry of a run's live WebSocket connections. Its
// methods are safe for concurrent use; a storm calls Drop while the run
// goes on.
type WSConns struct {
	mu    sync.Mutex
	live  map[*wsConn]struct{}
	total int64 // connections that ever opened
}

// NewWSConns returns an empty registry.
func NewWSConns() *WSConns { return &WSConns{live: map[*wsConn]struct{}{}} }

// Live returns how many connections are open now.
func (w *WSConns) Live() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.live)
}

// LiveByClass returns how many connections of each session class are open
// ("" for a run without per-class ratios).
func (w *WSConns) LiveByClass() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := map[string]int{}
	for c := range w.live {
		m[c.class]++
	}
	return m
}

// ErrBadFraction is Drop's error for a fraction outside (0, 1].
var ErrBadFraction = errors.New("replay: drop fraction is not in (0, 1]")

// DropEach is Drop with a policy of its own for each dropped client, made
// by newBackoff (for policies with state, such as decorrelated jitter).
func (w *WSConns) DropEach(fraction float64, class string, newBackoff func() Backoff) (int, error) {
	return w.drop(fraction, class, newBackoff)
}

// Drop closes fraction (0 < fraction ≤ 1) of the live connections of class
// (every class when class is ""), abruptly, without a close frame, as a
// network failure would; each dropped client then reconnects by backoff
// (nil: it does not). Which connections go is deterministic: those whose
// keyed hash of (virtual session, clone, attempt) is lowest, round(fraction
// × live) of them. Drop returns how many it dropped.
func (w *WSConns) Drop(fraction float64, class string, backoff Backoff) (int, error) {
	return w.drop(fraction, class, func() Backoff { return backoff })
}

func (w *WSConns) drop(fraction float64, class string, newBackoff func() Backoff) (int, error) {
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
		if c.drop(newBackoff()) {
			dropped++
		}
	}
	return dropped, nil
}

func (w *WSConns) add(c *wsConn) {
	w.mu.Lock()
	w.live[c] = struct{}{}
	w.total++
	w.mu.Unlock()
}

func (w *WSConns) remove(c *wsConn) {
	w.mu.Lock()
	delete(w.live, c)
	w.mu.Unlock()
}

// connHash is the deterministic order Drop picks connections in.
func connHash(vsess string, clone int32, attempt int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d/%d", vsess, clone, attempt)
	return keyhash.Mix(h.Sum64()) // SplitMix64's finalizer spreads FNV's low bits
}
