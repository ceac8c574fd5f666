package replay

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-replay/surge/schema"
)

// httpDriver sends with net/http: HTTP/2, TLS and everything else net/http
// speaks. Each request runs in its own goroutine (open loop: nothing waits
// for a worker); its send time is when net/http finished writing it.
type httpDriver struct {
	base    string // scheme://host of the target
	host    string
	now     func() time.Duration
	timeout time.Duration
	ctx     context.Context
	cancel  context.CancelFunc
	perUser bool
	shared  *http.Client
	mu      sync.Mutex
	users   map[string]*http.Client
	newT    func() *http.Transport

	// The write signal of each session's last request; sendMu guards it
	// (closed-loop runners send from their own goroutines).
	sendMu    sync.Mutex
	lastWrite map[string]chan struct{}
	sends     int
}

func newHTTPDriver(target *url.URL, now func() time.Duration, timeout time.Duration, maxConns int, perUser, http2, insecure bool) *httpDriver {
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
		base: target.Scheme + "://" + target.Host, host: target.Host, now: now, timeout: timeout,
		ctx: ctx, cancel: cancel, perUser: perUser, newT: newT,
		shared: newClient(newT()), users: map[string]*http.Client{},
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

func (d *httpDriver) client(user string) *http.Client {
	if !d.perUser {
		return d.shared
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.users[user]
	if !ok {
		t := d.newT()
		t.MaxConnsPerHost, t.MaxIdleConnsPerHost = 6, 6 // as a browser
		c = newClient(t)
		d.users[user] = c
	}
	return c
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
	ctx, cancel := context.WithTimeout(d.ctx, d.timeout)
	defer cancel()
	// WroteRequest runs on net/http's writer goroutine.
	var sent atomic.Int64
	sent.Store(int64(d.now()))
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
		sent.Store(int64(d.now()))
		markWritten()
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), p.method, d.base+"/", bytes.NewReader(p.body))
	if err != nil {
		p.end = d.now()
		p.sent = p.end
		p.result.Error = schema.ErrProtocol
		p.done(p)
		return
	}
	setRecorded(req, d.host, p)
	resp, err := d.client(p.result.User).Do(req)
	if err == nil {
		var n int64
		n, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		p.result.Status = int32(resp.StatusCode)
		p.result.BytesIn = n
	}
	p.end = d.now()
	p.sent = time.Duration(sent.Load())
	if err != nil {
		p.result.Error = d.classify(err, ctx)
	}
	p.done(p)
}

func (d *httpDriver) classify(err error, ctx context.Context) string {
	var ne net.Error
	var oe *net.OpError
	switch {
	case d.ctx.Err() != nil:
		return schema.ErrCanceled
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return schema.ErrTimeout
	case errors.As(err, &oe) && oe.Op == "dial":
		return schema.ErrConnect
	}
	return schema.ErrReset
}

func (d *httpDriver) close() {
	d.cancel()
	d.shared.CloseIdleConnections()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.users {
		c.CloseIdleConnections()
	}
}
