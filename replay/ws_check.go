package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-replay/surge/schema"
)

// WSCheck is an ordering and staleness check of the messages a target sends
// on the WebSocket connections of a route (the websocket.checks config).
//
// Where a message carries a sequence number (Seq, a JSON path into the
// message), each stream (Stream's value, or the whole connection) is
// checked: a number more than one above the highest seen is a gap, the
// highest again a duplicate, one below the highest a regression. The state
// is per connection: a reconnect starts it again, as exchange feeds number
// each session from its own start. Where a message carries its producer's
// time (TS), staleness is the receive time minus it. The first message of
// a stream after a reconnect is stale on reconnect when its number or time
// is below the last one seen before the reconnect. Heartbeat × Silence
// without any message counts a silence.
type WSCheck struct {
	// Route is a path pattern (path.Match: "/feed/*"); "" matches all.
	Route string `json:"route"`
	// Seq is the JSON path of the sequence number ("$.seq"); "" none.
	Seq string `json:"seq,omitempty"`
	// Stream is the JSON path of the stream a number counts in
	// ("$.channel"); "" means one stream per connection.
	Stream string `json:"stream,omitempty"`
	// TS is the JSON path of the producer time: a number of seconds,
	// milliseconds, microseconds or nanoseconds since the Unix epoch (by
	// magnitude), or an RFC 3339 string; "" none.
	TS string `json:"ts,omitempty"`
	// Heartbeat is the interval the producer promises a message within;
	// zero means no silence alarm.
	Heartbeat time.Duration `json:"heartbeat,omitempty"`
	// Silence is how many heartbeat intervals without a message make a
	// silence. Zero means 3.
	Silence int `json:"silence,omitempty"`

	seq, stream, ts jsonPath
}

// Validate returns every problem with the check and compiles its paths.
func (c *WSCheck) Validate() []error {
	var errs []error
	if _, err := path.Match(c.Route, "/"); err != nil {
		errs = append(errs, fmt.Errorf("route %q: %w", c.Route, err))
	}
	for _, f := range []struct {
		name string
		src  string
		dst  *jsonPath
	}{{"seq", c.Seq, &c.seq}, {"stream", c.Stream, &c.stream}, {"ts", c.TS, &c.ts}} {
		p, err := parseJSONPath(f.src)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
		*f.dst = p
	}
	if c.Seq == "" && c.TS == "" && c.Heartbeat == 0 {
		errs = append(errs, errors.New("checks nothing: give seq, ts or heartbeat"))
	}
	if c.Heartbeat < 0 {
		errs = append(errs, fmt.Errorf("heartbeat: negative (%s)", c.Heartbeat))
	}
	if c.Silence < 0 {
		errs = append(errs, fmt.Errorf("silence: negative (%d)", c.Silence))
	}
	return errs
}

func (c *WSCheck) matches(p string) bool {
	if c.Route == "" {
		return true
	}
	ok, _ := path.Match(c.Route, p)
	return ok || strings.HasSuffix(c.Route, "/*") && strings.HasPrefix(p, strings.TrimSuffix(c.Route, "*"))
}

func (c *WSCheck) silence() time.Duration {
	return c.Heartbeat * time.Duration(positive(c.Silence, 3))
}

// jsonPath is a parsed "$.a.b[2].c": object keys and array indexes.
type jsonPath []any // string or int

// parseJSONPath parses the subset of JSONPath a check needs: "$" then
// ".name" and "[index]" steps (also ["name"]).
func parseJSONPath(s string) (jsonPath, error) {
	if s == "" {
		return nil, nil
	}
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("JSON path %q does not start with $", s)
	}
	var p jsonPath
	rest := s[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			name := rest[1 : 1+end]
			if name == "" {
				return nil, fmt.Errorf("JSON path %q: empty name at offset %d", s, len(s)-len(rest))
			}
			p = append(p, name)
			rest = rest[1+end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("JSON path %q: unclosed [ at offset %d", s, len(s)-len(rest))
			}
			in := rest[1:end]
			if n, err := strconv.Atoi(in); err == nil && n >= 0 {
				p = append(p, n)
			} else if uq, err := strconv.Unquote(in); err == nil && len(in) > 1 && in[0] == '"' {
				p = append(p, uq)
			} else {
				return nil, fmt.Errorf("JSON path %q: [%s] is not an index or a quoted name", s, in)
			}
			rest = rest[end+1:]
		default:
			return nil, fmt.Errorf("JSON path %q: unexpected %q at offset %d", s, rest[0], len(s)-len(rest))
		}
	}
	return p, nil
}

// get returns the value at p in doc (decoded with UseNumber), or false.
func (p jsonPath) get(doc any) (any, bool) {
	for _, step := range p {
		switch k := step.(type) {
		case string:
			m, ok := doc.(map[string]any)
			if !ok {
				return nil, false
			}
			if doc, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			a, ok := doc.([]any)
			if !ok || k >= len(a) {
				return nil, false
			}
			doc = a[k]
		}
	}
	return doc, true
}

// seqNumber reads an integer sequence number (a JSON number or a decimal string).
func seqNumber(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// producerTime reads a producer time: epoch seconds, ms, µs or ns by magnitude
// (below 1e11 seconds, 1e14 ms, 1e17 µs, else ns), or RFC 3339.
func producerTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil || math.IsNaN(f) || f <= 0 || f > 1e19 {
			return time.Time{}, false
		}
		if n, err := x.Int64(); err == nil && n > 1e17 {
			return time.Unix(0, n), true // exact nanoseconds
		}
		switch {
		case f < 1e11:
			return time.Unix(0, int64(f*1e9)), true
		case f < 1e14:
			return time.Unix(0, int64(f*1e6)), true
		case f < 1e17:
			return time.Unix(0, int64(f*1e3)), true
		}
		return time.Unix(0, int64(f)), true
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		return t, err == nil
	}
	return time.Time{}, false
}

// wsChecker applies a WSCheck to one scheduled connection across its
// reconnects. Counters are per attempt (filled into its row); the last
// number and time of each stream survive a reconnect for the stale on
// reconnect check. Only the connection's reader calls it, but for the
// silence counter.
type wsChecker struct {
	c        *WSCheck
	streams  map[string]*wsStream // this attempt's
	before   map[string]*wsStream // the last attempt's, for stale on reconnect
	attempt  int
	gaps     int64
	dups     int64
	regs     int64
	staleMax int64
	stale    []int64
	onRecon  bool
	silences atomic.Int64
	silenceT *silenceTimer
	stats    *WSStats
}

type wsStream struct {
	hi     int64
	seen   bool
	last   time.Time
	hasTS  bool
	tested bool // stale on reconnect checked
}

func newWSChecker(c *WSCheck) *wsChecker {
	return &wsChecker{c: c, streams: map[string]*wsStream{}}
}

// reconnected starts the state of a new attempt.
func (k *wsChecker) reconnected(attempt int) {
	if attempt > 0 {
		k.before = k.streams
		k.streams = map[string]*wsStream{}
	}
	k.attempt = attempt
	k.gaps, k.dups, k.regs, k.staleMax, k.onRecon = 0, 0, 0, 0, false
	k.stale = k.stale[:0]
	k.silences.Store(0)
}

// watchSilence starts the silence alarm of a connection; nil without one.
func (k *wsChecker) watchSilence(wc *wsConn) *silenceTimer {
	if k.c == nil || k.c.Heartbeat <= 0 {
		return nil
	}
	t := &silenceTimer{d: k.c.silence(), n: &k.silences}
	t.t = time.AfterFunc(t.d, t.fire)
	k.silenceT = t
	return t
}

// silenceTimer counts a silence each time it fires; every message resets it.
type silenceTimer struct {
	mu      sync.Mutex
	t       *time.Timer
	d       time.Duration
	n       *atomic.Int64
	stopped bool
}

func (s *silenceTimer) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.n.Add(1)
	s.t.Reset(s.d)
}

func (s *silenceTimer) reset() {
	s.mu.Lock()
	if !s.stopped {
		s.t.Reset(s.d)
	}
	s.mu.Unlock()
}

// Stop ends the alarm.
func (s *silenceTimer) Stop() {
	s.mu.Lock()
	s.stopped = true
	s.t.Stop()
	s.mu.Unlock()
}

// frame checks one received message at wall time now.
func (k *wsChecker) frame(data []byte, now time.Time) {
	if k.c == nil {
		return
	}
	if k.silenceT != nil {
		k.silenceT.reset()
	}
	if k.c.seq == nil && k.c.ts == nil {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if dec.Decode(&doc) != nil {
		return
	}
	name := ""
	if k.c.stream != nil {
		v, ok := k.c.stream.get(doc)
		if !ok {
			return
		}
		name = fmt.Sprint(v)
	}
	st := k.streams[name]
	if st == nil {
		st = &wsStream{}
		k.streams[name] = st
	}
	prev := k.before[name]
	if k.c.seq != nil {
		if v, ok := k.c.seq.get(doc); ok {
			if n, ok := seqNumber(v); ok {
				k.seq(st, prev, n)
			}
		}
	}
	if k.c.ts != nil {
		if v, ok := k.c.ts.get(doc); ok {
			if t, ok := producerTime(v); ok {
				k.ts(st, prev, t, now)
			}
		}
	}
	st.tested = true
}

func (k *wsChecker) seq(st, prev *wsStream, n int64) {
	if !st.tested && prev != nil && prev.seen && n < prev.hi {
		k.onRecon = true
	}
	switch {
	case !st.seen:
		st.hi, st.seen = n, true
	case n == st.hi:
		k.dups++
	case n < st.hi:
		k.regs++
	default:
		if n > st.hi+1 {
			k.gaps++
		}
		st.hi = n
	}
}

func (k *wsChecker) ts(st, prev *wsStream, t, now time.Time) {
	if !st.tested && prev != nil && prev.hasTS && t.Before(prev.last) {
		k.onRecon = true
	}
	if !st.hasTS || t.After(st.last) {
		st.last, st.hasTS = t, true
	}
	stale := max(int64(now.Sub(t)), 0)
	k.staleMax = max(k.staleMax, stale)
	k.stale = append(k.stale, stale)
}

// fill puts the attempt's counts into res and its staleness into the
// run's histogram.
func (k *wsChecker) fill(res *schema.Result) {
	if k.c == nil {
		return
	}
	res.WSGaps, res.WSDuplicates, res.WSRegressions = k.gaps, k.dups, k.regs
	res.WSSilences = k.silences.Load()
	res.WSStaleMaxNS = k.staleMax
	res.WSStaleOnReconnect = k.onRecon
	if k.stats != nil {
		k.stats.addStaleness(k.stale)
	}
}
