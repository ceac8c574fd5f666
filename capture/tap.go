package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-replay/surge/schema"
)

// Defaults of TapConfig.
const (
	DefaultTapQueue         = 1 << 16
	DefaultTapReorderWindow = 2 * time.Second
	DefaultTapFlushInterval = time.Second
	DefaultFrameLimit       = 4 << 10
	// TapSource is the source name of events the tap records.
	TapSource = "proxy"
)

// TapOutput is where a Tap's recorder writes: Parquet files or a Kafka
// topic. Only the recorder goroutine calls it, so it need not be safe for
// concurrent use; it may block (the tap's queue absorbs that, then drops).
type TapOutput interface {
	// AddExchange and AddFrame write one event, taking ownership of it. An
	// error means the event is lost (the tap counts it as dropped).
	AddExchange(*schema.Exchange) error
	AddFrame(*schema.Frame) error
	// Flush is called every FlushInterval with the capture's loss so far:
	// it sends what is buffered, rolls files when due and records loss in
	// the output's metadata. It returns the events it had accepted and
	// then lost (a failed batch, a part that could not be written), and
	// the error.
	Flush(TapLoss) (TapLost, error)
	// Close flushes and closes the output, recording the final loss.
	Close(TapLoss) error
}

// TapLateOutput is a TapOutput that accepts an exchange earlier than events
// it already took (a Parquet output sorts its parts). The tap then writes a
// WebSocket upgrade when its connection closes, with ConnectionNS set (how
// long the connection lasted); to another output it writes the upgrade at
// the 101, without ConnectionNS (a Kafka partition must stay in time
// order).
type TapLateOutput interface {
	TapOutput
	AcceptsLate() bool
}

// TapConfig configures a Tap. Upstream, Output and Scrub.Key are required;
// the zero value of every other field works.
type TapConfig struct {
	// Upstream is the service the tap fronts (http:// or https://).
	Upstream *url.URL
	// Transport carries requests upstream. Nil means a transport with
	// keep-alives (up to 1024 idle connections to the upstream), HTTP/2
	// to https upstreams, and no proxy from the environment.
	Transport http.RoundTripper
	// Output receives the recorded events.
	Output TapOutput
	// Session says where a client's identity is (same rules as Import);
	// zero means client address + user agent. IdleGap ends a session; zero
	// means DefaultIdleGap.
	Session SessionKey
	IdleGap time.Duration
	// ClientHeader names a request header whose first comma-separated
	// value is the client's address (X-Forwarded-For behind a load
	// balancer), for sessions keyed by client address. Empty, or a request
	// without it, means the connection's remote address.
	ClientHeader string
	// Sample is the fraction of users recorded, by a keyed consistent hash
	// of the user key (the session key's value, or client address + user
	// agent), so a kept user's sessions are whole. Zero or ≥ 1 records all.
	Sample float64
	// Scrub configures scrubbing; Scrub.Key is required.
	Scrub ScrubConfig
	// Routes turn body (and WebSocket payload) recording on by path prefix;
	// without a matching route no body or payload is recorded, only sizes.
	Routes []TapRoute
	// QueueSize bounds the events waiting for the recorder; when it is
	// full new events are dropped and counted. Zero means DefaultTapQueue.
	QueueSize int
	// ReorderWindow is how long the recorder holds events to write them in
	// request-start order (a response ends after later requests start).
	// Zero means DefaultTapReorderWindow.
	ReorderWindow time.Duration
	// FlushInterval is how often the output is flushed. Zero means
	// DefaultTapFlushInterval.
	FlushInterval time.Duration
	// RecorderNice is the nice value (1–19, Linux) of the recorder's OS
	// thread: higher ranks the recorder further below the requests. Zero
	// means RecorderNice (19); see there for what a lower value trades.
	RecorderNice int
	// Metrics receives the tap's counters; nil means NewTapMetrics(nil).
	Metrics *TapMetrics
	// ErrorLog logs proxy and output errors (never event contents). Nil
	// means the log package's standard logger.
	ErrorLog *log.Logger
}

// TapLost counts events an output accepted and then lost.
type TapLost struct{ Exchanges, Frames int64 }

// TapRoute turns on body recording for requests whose path starts with
// Prefix (the longest matching prefix wins).
type TapRoute struct {
	Prefix string
	// BodyLimit is how many bytes of a request body are kept (the size is
	// always recorded). Zero means schema.MaxBody.
	BodyLimit int
	// FrameLimit is how many bytes of each WebSocket message's payload are
	// kept. Zero means DefaultFrameLimit.
	FrameLimit int
}

// ParseTapRoute parses "PREFIX" or "PREFIX=LIMIT", LIMIT a byte count with
// an optional KiB or MiB suffix ("/api/=64KiB"). PREFIX must start with "/".
func ParseTapRoute(s string) (TapRoute, error) {
	prefix, limit, hasLimit := strings.Cut(s, "=")
	if !strings.HasPrefix(prefix, "/") {
		return TapRoute{}, fmt.Errorf("body route %q: the path prefix must start with /", s)
	}
	r := TapRoute{Prefix: prefix}
	if hasLimit {
		n, err := parseBytes(limit)
		if err != nil {
			return TapRoute{}, fmt.Errorf("body route %q: %w", s, err)
		}
		r.BodyLimit, r.FrameLimit = n, n
	}
	return r, nil
}

// parseBytes parses a positive byte count: digits with an optional B, KiB
// or MiB suffix, at most 64 MiB.
func parseBytes(s string) (int, error) {
	mult := 1
	num := s
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"B", 1}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	if num == "" || len(num) > 9 || strings.Trim(num, "0123456789") != "" {
		return 0, fmt.Errorf("limit %q: want a byte count such as 4096, 64KiB or 1MiB", s)
	}
	n := 0
	for _, c := range num {
		n = n*10 + int(c-'0')
	}
	if n <= 0 || n*mult > 64<<20 {
		return 0, fmt.Errorf("limit %q: want more than 0 and at most 64MiB", s)
	}
	return n * mult, nil
}

// Errors of NewTap.
var (
	ErrNoUpstream = errors.New("capture: tap: no upstream URL")
	ErrNoOutput   = errors.New("capture: tap: no output")
)

// Tap is a reverse proxy (net/http/httputil.ReverseProxy) that records
// what passes: every request as a schema.Exchange and every WebSocket
// message as a schema.Frame. It never makes a request wait for capture:
// the request path builds the raw event and offers it to a bounded queue
// without blocking; a recorder goroutine re-orders, sessionizes, samples,
// scrubs and writes. When the queue is full, events are dropped and
// counted (fail open).
//
// A Tap is an http.Handler, safe for concurrent use. Close stops it.
type Tap struct {
	cfg     TapConfig
	proxy   *httputil.ReverseProxy
	routes  []TapRoute // longest prefix first
	m       *TapMetrics
	q       chan tapEvent
	senders atomic.Int64 // goroutines between the closing check and the send
	closing atomic.Bool
	stop    chan struct{}
	done    chan struct{}
	err     error // the output's Close error, set before done closes

	connMu sync.Mutex
	conns  map[*tapConn]struct{} // hijacked WebSocket connections open
}

// NewTap starts a Tap's recorder.
func NewTap(cfg TapConfig) (*Tap, error) {
	switch {
	case cfg.Upstream == nil || cfg.Upstream.Host == "":
		return nil, ErrNoUpstream
	case cfg.Output == nil:
		return nil, ErrNoOutput
	case len(cfg.Scrub.Key) == 0:
		return nil, ErrNoKey
	case cfg.RecorderNice < 0 || cfg.RecorderNice > 19:
		return nil, fmt.Errorf("capture: tap: RecorderNice %d: want 1 to 19 (0: %d)", cfg.RecorderNice, RecorderNice)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewTapMetrics(nil)
	}
	t := &Tap{
		cfg:   cfg,
		m:     cfg.Metrics,
		q:     make(chan tapEvent, cmp0(cfg.QueueSize, DefaultTapQueue)),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		conns: map[*tapConn]struct{}{},
	}
	t.routes = slices.Clone(cfg.Routes)
	sort.SliceStable(t.routes, func(i, j int) bool { return len(t.routes[i].Prefix) > len(t.routes[j].Prefix) })
	up := cfg.Upstream
	t.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			pr.Out.Host = pr.In.Host // the upstream sees the host its clients asked for
			pr.SetXForwarded()
		},
		Transport: cfg.Transport,
		// FlushInterval 0: the ReverseProxy flushes streamed responses
		// (no Content-Length, text/event-stream) at every write itself.
		BufferPool:   copyBuffers,
		ErrorLog:     cfg.ErrorLog,
		ErrorHandler: t.proxyError,
	}
	if t.proxy.Transport == nil {
		t.proxy.Transport = NewTapTransport()
	}
	t.m.queueDepth = func() float64 { return float64(len(t.q)) }
	rec := newTapRecorder(t)
	go runRecorder(rec, cmp0(cfg.RecorderNice, RecorderNice))
	return t, nil
}

// copyBuffers lends the ReverseProxy its 32 KiB response copy buffers
// (without a pool it allocates one per response).
var copyBuffers = &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte  { return *b.p.Get().(*[]byte) }
func (b *bufferPool) Put(v []byte) { b.p.Put(&v) }

func cmp0[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// NewTapTransport returns the transport a Tap uses when TapConfig.Transport
// is nil: no proxy from the environment, HTTP/2 when the upstream offers it,
// and up to 1,024 idle keep-alive connections to the upstream (Go's default
// of 2 per host would open and close a connection for most requests at a
// few thousand req/s). Benchmarks give a bare ReverseProxy the same one, so
// that they compare recording and nothing else.
func NewTapTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// route returns the route of a path, or nil when bodies are not recorded.
func (t *Tap) route(path string) *TapRoute {
	for i := range t.routes {
		if strings.HasPrefix(path, t.routes[i].Prefix) {
			return &t.routes[i]
		}
	}
	return nil
}

// ServeHTTP proxies one request and records it.
func (t *Tap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	h := &Hit{}
	e := &h.Exchange
	e.Time = t0
	e.Method = r.Method
	e.Scheme = "http"
	if r.TLS != nil {
		e.Scheme = "https"
	}
	e.Host = r.Host
	e.Path = r.URL.EscapedPath()
	e.Query = r.URL.RawQuery
	e.Protocol = protocolOf(r)
	e.Source = TapSource
	e.Headers = requestHeaders(r)
	h.Client, _, _ = net.SplitHostPort(r.RemoteAddr)
	if t.cfg.ClientHeader != "" {
		if v := r.Header.Get(t.cfg.ClientHeader); v != "" {
			first, _, _ := strings.Cut(v, ",")
			h.Client = strings.TrimSpace(first)
		}
	}
	rt := t.route(r.URL.Path)
	var body *tapBody
	if r.Body != nil && r.Body != http.NoBody {
		body = &tapBody{rc: r.Body, declared: r.ContentLength}
		if rt != nil {
			body.limit = cmp0(rt.BodyLimit, schema.MaxBody)
		}
		r.Body = body
	}
	rw := &tapResponse{ResponseWriter: w, tap: t, hit: h, route: rt, body: body}
	t1 := time.Now()
	// Deferred, so that a request the ReverseProxy aborts (it panics with
	// http.ErrAbortHandler when the response breaks off) is recorded too.
	defer func() {
		t2 := time.Now()
		if !rw.hijacked {
			if body != nil {
				body.fill(e)
			}
			status := rw.status
			if status == 0 {
				status = http.StatusOK
			}
			e.Status = schema.Int32(int32(status))
			e.ResponseBytes = schema.Int64(rw.bytes)
			e.LatencyNS = schema.Int64(int64(t2.Sub(t0)))
			t.enqueue(tapEvent{at: t0, hit: h})
		}
		t.m.added.Observe((t1.Sub(t0) + time.Since(t2)).Seconds())
	}()
	t.proxy.ServeHTTP(rw, r)
}

func protocolOf(r *http.Request) string {
	switch {
	case r.ProtoMajor == 2:
		return schema.ProtoHTTP2
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		return schema.ProtoHTTP10
	}
	return schema.ProtoHTTP11
}

// requestHeaders copies a request's headers, sorted by name (a Go server
// does not keep their order), with Host first as a client sent it.
func requestHeaders(r *http.Request) []schema.Header {
	n := 0
	for _, vs := range r.Header {
		n += len(vs)
	}
	hs := make([]schema.Header, 0, n)
	for name, vs := range r.Header {
		for _, v := range vs {
			hs = append(hs, schema.Header{Name: name, Value: v})
		}
	}
	slices.SortStableFunc(hs, func(a, b schema.Header) int { return strings.Compare(a.Name, b.Name) })
	return hs
}

// enqueue offers an event to the recorder without ever blocking.
func (t *Tap) enqueue(ev tapEvent) {
	t.senders.Add(1)
	defer t.senders.Add(-1)
	if t.closing.Load() {
		t.m.drop(dropShutdown)
		return
	}
	select {
	case t.q <- ev:
	default:
		t.m.drop(dropQueueFull)
	}
}

// enqueueEnd offers a connection's close to the recorder, never blocking
// and never counted as a drop: without it the recorder writes the held
// upgrade at shutdown, with the close time the connection noted.
func (t *Tap) enqueueEnd(ev tapEvent) {
	t.senders.Add(1)
	defer t.senders.Add(-1)
	if t.closing.Load() {
		return
	}
	select {
	case t.q <- ev:
	default:
	}
}

// Close stops recording: it closes the WebSocket connections still open
// (stop the server first, so no new request arrives), lets the recorder
// write every queued event and closes the output. It returns the output's
// error. ctx bounds the wait; on expiry Close returns ctx's error and the
// recorder goes on in the background. Close is safe to call twice.
func (t *Tap) Close(ctx context.Context) error {
	if t.closing.CompareAndSwap(false, true) {
		t.connMu.Lock()
		for c := range t.conns {
			c.Conn.Close()
		}
		t.connMu.Unlock()
		// An event offered before closing was set may still be on its way
		// into the queue: wait for its sender before the recorder's last
		// drain.
		for t.senders.Load() > 0 {
			time.Sleep(50 * time.Microsecond)
		}
		close(t.stop)
	}
	select {
	case <-t.done:
		return t.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Loss returns the capture's counts so far.
func (t *Tap) Loss() TapLoss { return t.m.loss(t.cfg.Sample) }

// proxyError answers a request the upstream did not (it is down, refused
// or broke off) with 502, as the ReverseProxy's default handler does. The
// upstream read none or part of the body, so first the tap reads the rest
// of it itself, up to the route's limit, to record the request whole: a
// request to a down upstream is worth replaying too. Reading what the
// client is sending anyway costs it nothing; the server would discard it.
func (t *Tap) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if l := t.cfg.ErrorLog; l != nil {
		l.Printf("http: proxy error: %v", err)
	} else {
		log.Printf("http: proxy error: %v", err)
	}
	if tr, ok := w.(*tapResponse); ok && tr.body != nil {
		tr.body.readRest()
	}
	w.WriteHeader(http.StatusBadGateway)
}

// tapBody counts a request body as the upstream reads it and keeps up to
// limit bytes of it. The transport may still be reading it when the
// handler returns (an early response), so it locks.
type tapBody struct {
	rc       interface{ Read([]byte) (int, error) }
	mu       sync.Mutex
	limit    int
	n        int64
	buf      []byte
	declared int64 // the request's Content-Length, -1 when unknown
	failed   bool  // the upstream failed: readRest was called
}

// readRest reads what the upstream did not, up to the limit (nothing when
// bodies are not recorded for the route), for a request the upstream failed.
func (b *tapBody) readRest() {
	b.mu.Lock()
	b.failed = true
	room := int64(b.limit) - b.n
	b.mu.Unlock()
	if room > 0 {
		io.Copy(io.Discard, io.LimitReader(b, room))
	}
}

func (b *tapBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.mu.Lock()
	b.n += int64(n)
	if room := b.limit - len(b.buf); room > 0 && n > 0 {
		b.buf = append(b.buf, p[:min(n, room)]...)
	}
	b.mu.Unlock()
	return n, err
}

func (b *tapBody) Close() error {
	if c, ok := b.rc.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// fill sets e's body from what was read so far.
func (b *tapBody) fill(e *schema.Exchange) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e.Body = b.buf
	b.buf = nil
	e.BodySize = b.n
	if b.failed && b.declared > b.n {
		// The upstream failed before the whole body was read: its size
		// is the one the client declared.
		e.BodySize = b.declared
	}
	e.BodyTruncated = e.BodySize > int64(len(e.Body))
}

func stdLogf(format string, args ...any) { log.Printf(format, args...) }
