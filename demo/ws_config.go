package demo

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of WSConfig.
const (
	DefaultWSMaxConns       = 2000
	DefaultWSAcceptRate     = 50 // handshakes per second
	DefaultChatInterval     = 500 * time.Millisecond
	DefaultViewersInterval  = 2 * time.Second
	defaultWSAcceptBurstSec = 0.2 // the burst is this many seconds of the rate
)

// ErrFault means a WSConfig.Faults entry is invalid.
var ErrFault = errors.New("demo: bad fault")

// WSConfig is the capacity and behaviour of the demo's WebSocket feeds.
// The zero value works: every field's comment states its default.
//
// Capacity is two limits, as a real feed server (or the load balancer in
// front of it) has: handshakes per second, beyond which an upgrade gets 503
// with Retry-After: 1 before it is accepted (a token bucket), and open
// sockets, beyond which an accepted socket is closed at once with close
// code 1013, Try Again Later (RFC 6455 §7.4, IANA registry). Both count in
// Stats.WebSocket. A synchronized reconnect wave of more clients than the
// bucket holds is therefore refused in part, and retries without jitter
// meet the same wall again.
type WSConfig struct {
	// MaxConns is how many WebSocket connections may be open at once.
	// Zero means DefaultWSMaxConns; negative means no limit.
	MaxConns int
	// AcceptRate is how many handshakes per second the server accepts, in
	// the long run. Zero means DefaultWSAcceptRate; negative means no
	// limit.
	AcceptRate float64
	// AcceptBurst is how many handshakes may come at once (the bucket's
	// size). Zero means a fifth of a second of AcceptRate (at least 1).
	AcceptBurst int
	// ChatInterval and ViewersInterval are how often the chat/presence and
	// the viewer-count feeds produce a message. Zero means
	// DefaultChatInterval (500 ms) and DefaultViewersInterval (2 s).
	ChatInterval, ViewersInterval time.Duration
	// Faults are injected into every feed connection, for tests of
	// ordering and staleness checks. Nil means none.
	Faults []Fault
}

// FaultKind is what a Fault does to its frame.
type FaultKind string

// The faults.
const (
	// FaultSkip leaves the frame out: the connection sees its sequence
	// number missing (one gap).
	FaultSkip FaultKind = "skip"
	// FaultDuplicate sends the frame twice (one duplicate).
	FaultDuplicate FaultKind = "duplicate"
	// FaultRegress sends, after the frame, the frame one sequence number
	// below it again (one regression: below the highest seen).
	FaultRegress FaultKind = "regress"
	// FaultDelay stamps the frame Delay earlier than it was produced (its
	// staleness is Delay more).
	FaultDelay FaultKind = "delay"
)

// Fault is a fault injected into the feed frames of every WebSocket
// connection (of Feed, or of both feeds): at the connection's Frame-th feed
// frame (1 is the first it is sent). A frame's sequence number and
// producer time are those of the feed, the same on every connection, so a
// checker that counts per connection sees exactly one fault per Fault and
// connection that lives to that frame.
type Fault struct {
	Feed  string        // "chat", "viewers", or "" for both
	Frame int           // the connection's feed frame, from 1
	Kind  FaultKind     // skip, duplicate, regress or delay
	Delay time.Duration // for FaultDelay: how much earlier the frame is stamped
}

// validate returns what is wrong with f, wrapping ErrFault.
func (f Fault) validate() error {
	switch {
	case f.Feed != "" && f.Feed != feedChat.String() && f.Feed != feedViewers.String():
		return fmt.Errorf("%w: feed %q: want chat, viewers or empty for both", ErrFault, f.Feed)
	case f.Frame < 1:
		return fmt.Errorf("%w: frame %d: want the connection's feed frame, from 1", ErrFault, f.Frame)
	case f.Kind == FaultDelay && f.Delay <= 0:
		return fmt.Errorf("%w: delay at frame %d: want a positive Delay", ErrFault, f.Frame)
	case f.Kind != FaultSkip && f.Kind != FaultDuplicate && f.Kind != FaultRegress && f.Kind != FaultDelay:
		return fmt.Errorf("%w: kind %q: want skip, duplicate, regress or delay", ErrFault, f.Kind)
	}
	return nil
}

func (c *WSConfig) validate() error {
	var errs []error
	for _, f := range c.Faults {
		if err := f.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *WSConfig) maxConns() int {
	switch {
	case c.MaxConns == 0:
		return DefaultWSMaxConns
	case c.MaxConns < 0:
		return 0 // no limit
	}
	return c.MaxConns
}

// acceptRate returns the handshakes per second and the burst; rate 0 means
// no limit.
func (c *WSConfig) acceptRate() (float64, int) {
	r := c.AcceptRate
	switch {
	case r == 0:
		r = DefaultWSAcceptRate
	case r < 0:
		return 0, 0
	}
	burst := c.AcceptBurst
	if burst <= 0 {
		burst = max(1, int(r*defaultWSAcceptBurstSec+0.5))
	}
	return r, burst
}

func (c *WSConfig) interval(f feed) time.Duration {
	if f == feedViewers {
		if c.ViewersInterval > 0 {
			return c.ViewersInterval
		}
		return DefaultViewersInterval
	}
	if c.ChatInterval > 0 {
		return c.ChatInterval
	}
	return DefaultChatInterval
}

// bucket is a token bucket: rate tokens a second, at most burst. Time is a
// parameter. Not safe for concurrent use (the hub's lock guards it).
type bucket struct {
	rate   float64 // 0: no limit
	burst  float64
	tokens float64
	last   time.Time
}

// allow takes a token at now, or reports that there is none.
func (b *bucket) allow(now time.Time) bool {
	if b.rate <= 0 {
		return true
	}
	if b.last.IsZero() {
		b.tokens = b.burst
	} else if dt := now.Sub(b.last); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt.Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
