package demo

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Sentinel errors returned (wrapped) by New and Start.
var (
	// ErrNotLoopback means Config.Addr names a host that is not a loopback
	// address: the demo target never listens where other machines can reach it.
	ErrNotLoopback = errors.New("demo: listen address is not loopback")
	// ErrUnknownClass means Config.Capacity names a route class that does not
	// exist (see Classes).
	ErrUnknownClass = errors.New("demo: unknown route class")
)

// Config configures a Server. The zero value works: every field's comment
// states its default.
type Config struct {
	// Addr is the TCP address to listen on. Default "127.0.0.1:0" (a free
	// port). Its host must be a loopback address (127.0.0.0/8, ::1) or
	// "localhost", which means 127.0.0.1; anything else, including an empty
	// host such as ":8080", is refused with ErrNotLoopback before listening.
	// New ignores Addr apart from checking it.
	Addr string

	// Capacity is, per route class, how many requests are in service at
	// once. Classes missing from the map, and values zero or negative, get
	// the default (DefaultCapacity). A key that is not a class (Classes) is
	// an error wrapping ErrUnknownClass.
	Capacity map[string]int

	// QueueTimeout is how long a request waits for a free slot of its class
	// before it gets 503 with Retry-After: 1. Default 500 ms. Negative means
	// no queue: a request that finds every slot busy gets 503 at once.
	QueueTimeout time.Duration

	// Seed seeds the jitter of service times. Zero is a seed like any other
	// (the default); the same seed and the same arrival order per class give
	// the same service times.
	Seed uint64

	// AcceptEmptyLogin makes POST /api/v1/session with an empty body succeed
	// like a refresh-token login, for captures that have no request bodies
	// (access logs). Default false: an empty login body gets 401, after its
	// service time, so logins load the session class either way.
	AcceptEmptyLogin bool

	// WebSocket is the capacity and behaviour of the WebSocket feeds
	// (/ws/chat/{event}, /ws/viewers/{event}); its zero value works.
	WebSocket WSConfig

	// Now is the wall clock that responses show: the live playlist's media
	// sequence and the chat's timestamps. Default time.Now. Load and service
	// times are measured with the runtime's clock, so tests of timing use
	// testing/synctest rather than this hook.
	Now func() time.Time
}

// defaultAddr is where Start listens when Config.Addr is empty.
const defaultAddr = "127.0.0.1:0"

// defaultQueueTimeout is Config.QueueTimeout's default.
const defaultQueueTimeout = 500 * time.Millisecond

// Classes returns the names of the route classes, in a fixed order: the keys
// Config.Capacity accepts and the order of Stats.Classes.
func Classes() []string { return slices.Clone(classNames[:]) }

// DefaultCapacity returns the default capacity of every route class (a new
// map each call).
//
// They were chosen by replaying the request start times of the sample's
// match-night.log.gz (log time − $request_time, at the recorded pace)
// through a model of this server, and checked by replaying the six minutes
// around kickoff (19:52–19:58) against it over loopback. At 1x no class
// sheds load and every class stays near its base service time. At 3x (each
// session cloned with up to 30 s of jitter) search and recommendations
// degrade first: their p99 reaches 750–850 ms and they answer 2–6% of the
// night's requests with 503 (5–11% around kickoff); session's p99 grows
// from about 80 ms to about 600 ms with about 1% 503s; home, browse and the
// live and chat classes stay healthy. Replaying faster than the recorded
// pace multiplies the load as a ratio would.
func DefaultCapacity() map[string]int {
	m := make(map[string]int, numClasses)
	for c := range numClasses {
		m[c.String()] = profiles[c].capacity
	}
	return m
}

func (c *Config) addr() string {
	if c.Addr == "" {
		return defaultAddr
	}
	return c.Addr
}

func (c *Config) queueTimeout() time.Duration {
	if c.QueueTimeout == 0 {
		return defaultQueueTimeout
	}
	return c.QueueTimeout
}

func (c *Config) now() func() time.Time {
	if c.Now == nil {
		return time.Now
	}
	return c.Now
}

// capacities returns the capacity of every class, defaults filled in.
func (c *Config) capacities() ([numClasses]int, error) {
	var caps [numClasses]int
	for cl := range numClasses {
		caps[cl] = profiles[cl].capacity
	}
	var errs []error
	for name, n := range c.Capacity {
		cl, ok := classByName(name)
		if !ok {
			errs = append(errs, fmt.Errorf("%w %q (classes: %s)", ErrUnknownClass, name, strings.Join(classNames[:], ", ")))
			continue
		}
		if n > 0 {
			caps[cl] = n
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return caps, errors.Join(errs...)
}

// loopbackAddr checks that addr's host is loopback and returns the address
// to listen on ("localhost" becomes 127.0.0.1 so that name resolution cannot
// move the listener off loopback).
func loopbackAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("demo: listen address %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() || ip.Zone() != "" {
		return "", fmt.Errorf("%w: %q (use 127.0.0.1, ::1 or localhost)", ErrNotLoopback, addr)
	}
	return addr, nil
}
