package replay

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/surge-replay/surge/accounts"
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

	// WebSocket replays recorded WebSocket upgrades as connections with
	// their messages (docs/WEBSOCKET.md). Nil sends an upgrade as a plain
	// request, as before.
	WebSocket *WSConfig

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

func positive[T int | int64 | time.Duration | float64](v, def T) T {
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
	if c.WebSocket != nil {
		errs = append(errs, c.WebSocket.Validate()...)
	}
	if c.Abort != nil && (c.Abort.Rate <= 0 || c.Abort.Rate >= 1) {
		errs = append(errs, fmt.Errorf("abort: error rate %g is not between 0 and 1", c.Abort.Rate))
	}
	return append(errs, c.validateRegions()...)
}
