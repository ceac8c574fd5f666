package replay

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/surge-replay/surge/schema"
)

// httpDriver sends with net/http: HTTP/2, TLS and everything else net/http
// speaks. Each request runs in its own goroutine (open loop: nothing waits
// for a worker); its send time is when net/http finished writing it.
//
// Connections follow the run's model: per user, each virtual user has its
// own Transport (HTTP/1.1: up to 6 connections, as a browser; HTTP/2: one
// multiplexed connection); shared, one Transport for all with up to
// maxConns. An httptrace.ClientTrace measures the client queueing (waiting
// for a connection that is not being dialed for this request), the connect
// and TLS time, and whether the connection was new or reused.
type httpDriver struct {
	base    string // scheme://host of the target
	host    string
	now     func() time.Duration
	timeout time.Duration
	maxLate time.Duration // waiting for a connection longer than this drops the request; <= 0 never
	ctx     context.Context
	cancel  context.CancelFunc
	perUser bool
	shared  *http.Client
	mu      sync.Mutex
	users   map[string]*userClient
	newT    func() *http.Transport
	// With regions (region_net.go): each region's connections are dialed
	// to its address from its source, in transports of its own (per user
	// and region, or one shared pool per region: sharedBy, under mu).
	nets     *regionNets
	sharedBy map[string]*http.Client

	// The write signal of each session's last request; sendMu guards it
	// (closed-loop runners send from their own goroutines).
	sendMu    sync.Mutex
	lastWrite map[string]chan struct{}
	sends     int
}

// userClient is one virtual user's client, closed when idle long enough.
type userClient struct {
	c        *http.Client
	inflight int
	last     time.Duration
}

// userIdle is how long a virtual user's client may sit unused before its
// connections are closed and it is forgotten (memory holds live users only).
const userIdle = 2 * time.Minute

func newHTTPDriver(target *url.URL, now func() time.Duration, timeout, maxLate time.Duration, maxConns int, perUser, http2, insecure bool) *httpDriver {
	ctx, cancel := context.WithCancel(context.Background())
	newT := func() *http.Transport {
		var protocols *http.Protocols
		if http2 && target.Scheme == "http" {
			// HTTP/2 without TLS (h2c), as service meshes speak it.
			protocols = new(http.Protocols)
			protocols.SetUnencryptedHTTP2(true)
		}
		return &http.Transport{
			Protocols:           protocols,
			DialContext:         (&net.Dialer{Timeout: timeout}).DialContext,
			MaxIdleConns:        maxConns,
			MaxIdleConnsPerHost: maxConns,
			MaxConnsPerHost:     maxConns,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   http2,
			DisableCompression:  true, // replay what was recorded; don't add Accept-Encoding
			TLSClientConfig:     &tls.Config{InsecureSkipVerify: insecure},
		}
	}
	return &httpDriver{
		base: target.Scheme + "://" + target.Host, host: target.Host, now: now, timeout: timeout, maxLate: maxLate,
		ctx: ctx, cancel: cancel, perUser: perUser, newT: newT,
		shared: newClient(newT()), users: map[string]*userClient{},
		lastWrite: map[string]chan struct{}{},
	}
}

func newClient(t *http.Transport) *http.Client {
	return &http.Client{
		Transport: t,
		// Redirects are part of what the target does: replay does not
		// follow them (the recorded client's next request is in the capture).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// client returns the client of key's virtual user (taking a use of it, given
// back by release), or the shared one.
func (d *httpDriver) client(key string, p *pending) *http.Client {
	if !d.perUser {
		if p.rnet == nil {
			return d.shared
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		c, ok := d.sharedBy[p.result.Region]
		if !ok {
			c = newClient(d.transport(p.rnet))
			if d.sharedBy == nil {
				d.sharedBy = map[string]*http.Client{}
			}
			d.sharedBy[p.result.Region] = c
		}
		return c
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[key]
	if !ok {
		t := d.transport(p.rnet)
		t.MaxConnsPerHost, t.MaxIdleConnsPerHost = perUserConns, perUserConns // as a browser
		u = &userClient{c: newClient(t)}
		d.users[key] = u
	}
	u.inflight++
	return u.c
}

// transport returns a new Transport whose connections go to rn's
// address (any, without regions: rn nil).
func (d *httpDriver) transport(rn *regionNet) *http.Transport {
	t := d.newT()
	if rn != nil {
		t.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) { return rn.dial(ctx, d.timeout) }
	}
	return t
}

// release gives back a use of key's client; every so often, clients idle
// longer than userIdle are closed.
func (d *httpDriver) release(key string) {
	if !d.perUser {
		return
	}
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if u := d.users[key]; u != nil {
		u.inflight--
		u.last = now
	}
	if len(d.users) < 1024 {
		return
	}
	for k, u := range d.users {
		if u.inflight == 0 && now-u.last > userIdle {
			u.c.CloseIdleConnections()
			delete(d.users, k)
		}
	}
}

// send starts p in its own goroutine. A session's requests are written in
// order: each waits until the previous one of its virtual session was written
// (goroutines alone would race).
func (d *httpDriver) send(p *pending) {
	written := make(chan struct{})
	d.sendMu.Lock()
	defer d.sendMu.Unlock()
	prev := d.lastWrite[p.vsess]
	d.lastWrite[p.vsess] = written
	if d.sends++; d.sends%4096 == 0 {
		for k, ch := range d.lastWrite {
			select {
			case <-ch:
				delete(d.lastWrite, k)
			default:
			}
		}
	}
	go d.do(p, prev, written)
}

// errQueued cancels a request that waited for a connection past the
// lateness limit.
var errQueued = errors.New("waited for a connection past the lateness limit")

// trace follows one request through net/http (its hooks run on net/http's
// goroutines).
type trace struct {
	d            *httpDriver
	getConn      atomic.Int64 // when it asked for a connection (last ask)
	asks         atomic.Int32 // GetConn calls: more than one is a retry
	dialStart    atomic.Int64 // 0: no dial for this request
	dialTime     atomic.Int64
	gotConn      atomic.Bool
	reused       atomic.Bool
	tls          atomic.Bool
	tlsErr       atomic.Value // error
	queue        atomic.Int64
	wrote        atomic.Bool
	answered     atomic.Bool // a response byte came
	sent         atomic.Int64
	markWritten  func()
	cancelQueued context.CancelCauseFunc
}

func (tr *trace) hooks() *httptrace.ClientTrace {
	now := func() int64 { return int64(tr.d.now()) }
	return &httptrace.ClientTrace{
		GetConn: func(string) {
			tr.getConn.Store(now())
			tr.asks.Add(1)
		},
		ConnectStart: func(string, string) { tr.dialStart.Store(now()) },
		ConnectDone: func(string, string, error) {
			if s := tr.dialStart.Load(); s != 0 {
				tr.dialTime.Add(now() - s)
			}
		},
		TLSHandshakeStart: func() { tr.dialStart.CompareAndSwap(0, now()); tr.tls.Store(true) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err != nil {
				tr.tlsErr.Store(err)
			}
		},
		GotConn: func(info httptrace.GotConnInfo) {
			t := now()
			tr.gotConn.Store(true)
			tr.reused.Store(info.Reused)
			wait := t - tr.getConn.Load()
			if !info.Reused {
				wait -= tr.dialTime.Load()
			}
			tr.queue.Add(max(wait, 0))
		},
		GotFirstResponseByte: func() { tr.answered.Store(true) },
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				tr.wrote.Store(true)
			}
			tr.sent.Store(now())
			tr.markWritten()
		},
	}
}

func (d *httpDriver) do(p *pending, prev <-chan struct{}, written chan struct{}) {
	var once sync.Once
	markWritten := func() { once.Do(func() { close(written) }) }
	defer markWritten()
	if prev != nil {
		select {
		case <-prev:
		case <-d.ctx.Done():
		}
	}
	key := userKey(p)
	client := d.client(key, p)
	defer d.release(key)
	qctx, cancelQueued := context.WithCancelCause(d.ctx)
	defer cancelQueued(nil)
	ctx, cancel := context.WithTimeout(qctx, d.timeout)
	defer cancel()
	tr := &trace{d: d, markWritten: markWritten, cancelQueued: cancelQueued}
	if d.maxLate > 0 {
		// A request that waits for a connection (not one being dialed for
		// it) past the lateness limit is dropped, as the lean driver does.
		stop := time.AfterFunc(d.maxLate, func() {
			if !tr.gotConn.Load() && tr.dialStart.Load() == 0 {
				cancelQueued(errQueued)
			}
		})
		defer stop.Stop()
	}
	tctx := httptrace.WithClientTrace(ctx, tr.hooks())
	resp, err := d.roundTrip(client, tctx, p)
	if err != nil && d.resendable(p, tr, err) {
		// net/http sends a request again on a reused connection that the
		// target closed only for GET, HEAD, OPTIONS and TRACE (its
		// Request.isReplayable); PUT and DELETE are idempotent too (RFC
		// 9110 §9.2.2), and the lean driver sends them once more: so does
		// this one, to give the same outcome. The second GetConn makes
		// p.retry below.
		resp, err = d.roundTrip(client, tctx, p)
	}
	if re := (*requestError)(nil); errors.As(err, &re) {
		p.end = d.now()
		p.result.Error, p.result.Detail = schema.ErrRequest, re.err.Error()
		p.done(p)
		return
	}
	if err == nil {
		var n int64
		n, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		p.result.Status = int32(resp.StatusCode)
		p.result.BytesIn = n
	}
	d.finish(p, tr, ctx, qctx, err)
}

// roundTrip builds p's request (its target as recorded) and sends it once
// through client. A build error is returned as a *requestError.
func (d *httpDriver) roundTrip(client *http.Client, ctx context.Context, p *pending) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, p.method, d.base+"/", bytes.NewReader(p.body))
	if err != nil {
		return nil, &requestError{err}
	}
	if !idempotent(p.method) && len(p.body) > 0 {
		// Not rewindable: net/http never sends it twice (RFC 9110 §9.2.2).
		req.GetBody = nil
	}
	host := d.host
	if p.host != "" {
		host = p.host // a shaper rewrite's: the connection still goes to the target
	}
	setRecorded(req, host, p)
	return client.Do(req)
}

// requestError is a request that could not be built: never sent.
type requestError struct{ err error }

func (e *requestError) Error() string { return e.err.Error() }
func (e *requestError) Unwrap() error { return e.err }

// resendable says whether p, which failed with err, may be sent once more
// as the lean driver would: idempotent, not sent twice yet (net/http did
// not retry it itself), written on a reused connection that the target
// closed or reset with nothing of a response read, and no stop or timeout.
func (d *httpDriver) resendable(p *pending, tr *trace, err error) bool {
	var re *requestError
	if errors.As(err, &re) || !idempotent(p.method) || tr.asks.Load() > 1 || !tr.reused.Load() || tr.answered.Load() || d.ctx.Err() != nil {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// finish fills p from what the trace saw and err, and completes it.
func (d *httpDriver) finish(p *pending, tr *trace, ctx, qctx context.Context, err error) {
	p.end = d.now()
	if tr.wrote.Load() {
		p.sent = time.Duration(tr.sent.Load())
	}
	if tr.gotConn.Load() {
		p.assigned = p.handed + time.Duration(tr.queue.Load())
		p.conn = schema.ConnNew
		if tr.reused.Load() {
			p.conn = schema.ConnReused
		} else {
			p.connect = time.Duration(tr.dialTime.Load())
		}
		p.result.TLS = tr.tls.Load() && !tr.reused.Load()
	}
	p.retry = tr.asks.Load() > 1
	if err == nil {
		p.done(p)
		return
	}
	class, detail := d.classify(err, tr, ctx, qctx)
	if schema.IsDropped(class) {
		markDropped(p, p.end, class)
	} else {
		p.result.Error, p.result.Detail = class, detail
	}
	p.done(p)
}

// classify returns the class (and reason) of err ending a request: each
// class means one thing (see schema), and a request never written is
// dropped, not sent.
func (d *httpDriver) classify(err error, tr *trace, ctx, qctx context.Context) (class, detail string) {
	var ne net.Error
	var oe *net.OpError
	var ce *tls.CertificateVerificationError
	var ae tls.AlertError
	var rh tls.RecordHeaderError
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	var ie x509.CertificateInvalidError
	var re *ResolveError
	written := tr.wrote.Load()
	tlsErr, _ := tr.tlsErr.Load().(error)
	switch {
	case errors.Is(context.Cause(qctx), errQueued):
		return schema.DroppedQueue, ""
	case d.ctx.Err() != nil && !written:
		return schema.DroppedAbort, ""
	case d.ctx.Err() != nil:
		return schema.ErrCanceled, ""
	case errors.As(err, &re):
		return schema.ErrDNS, re.Reason
	case tlsErr != nil || errors.As(err, &ce) || errors.As(err, &ae) || errors.As(err, &rh) ||
		errors.As(err, &ue) || errors.As(err, &he) || errors.As(err, &ie):
		if tlsErr == nil {
			tlsErr = err
		}
		if errors.As(tlsErr, &rh) && bytes.HasPrefix(rh.RecordHeader[:], []byte("HTTP/")) {
			return schema.ErrTLS, plainHTTPToTLS
		}
		return schema.ErrTLS, tlsReason(tlsErr)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http's own wording of the same RecordHeaderError.
		return schema.ErrTLS, plainHTTPToTLS
	case errors.As(err, &oe) && oe.Op == "dial":
		return schema.ErrConnect, errDetailNet(oe.Err)
	case !tr.gotConn.Load() && (errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()):
		// The deadline came while connecting (or waiting to).
		return schema.ErrConnect, "timeout"
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return schema.ErrTimeout, ""
	case strings.Contains(err.Error(), "malformed HTTP"):
		return schema.ErrProtocol, clip(err.Error())
	case !written && !tr.gotConn.Load():
		return schema.ErrRequest, clip(err.Error())
	}
	return schema.ErrReset, errDetailNet(err)
}

// plainHTTPToTLS is the detail of a handshake that met a plain HTTP server.
const plainHTTPToTLS = "the target answered plain HTTP to TLS: use http://"

// tlsReason is the short reason of a TLS handshake error.
func tlsReason(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, "tls: "); i >= 0 {
		s = s[i:]
	} else if i := strings.LastIndex(s, "x509: "); i >= 0 {
		s = s[i:]
	}
	return clip(s)
}

// errDetailNet is the short reason of a network error.
func errDetailNet(err error) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return clip(s)
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120]
	}
	return s
}

func (d *httpDriver) close() {
	d.cancel()
	d.shared.CloseIdleConnections()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, u := range d.users {
		u.c.CloseIdleConnections()
	}
	for _, c := range d.sharedBy {
		c.CloseIdleConnections()
	}
}
