package capture

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// memOutput is a TapOutput in memory. block, when set, makes every Add wait
// until it closes (a slow output); fail makes every Add fail.
type memOutput struct {
	mu      sync.Mutex
	ex      []schema.Exchange
	fr      []schema.Frame
	block   chan struct{}
	fail    error
	flushes int
	closed  *TapLoss
}

func (o *memOutput) add() error {
	if o.block != nil {
		<-o.block
	}
	return o.fail
}

func (o *memOutput) AddExchange(e *schema.Exchange) error {
	if err := o.add(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ex = append(o.ex, *e)
	return nil
}

func (o *memOutput) AddFrame(f *schema.Frame) error {
	if err := o.add(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fr = append(o.fr, *f)
	return nil
}

func (o *memOutput) Flush(TapLoss) (TapLost, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushes++
	return TapLost{}, nil
}

func (o *memOutput) Close(l TapLoss) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = &l
	return nil
}

// tapFixture is an upstream, a Tap in front of it and the tap's server.
type tapFixture struct {
	upstream *httptest.Server
	tap      *Tap
	srv      *httptest.Server
	out      *memOutput
}

func newTapFixture(t *testing.T, upstream http.Handler, cfg TapConfig) *tapFixture {
	t.Helper()
	up := httptest.NewServer(upstream)
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	cfg.Upstream = u
	out, _ := cfg.Output.(*memOutput)
	if cfg.Output == nil {
		out = &memOutput{}
		cfg.Output = out
	}
	if cfg.Scrub.Key == nil {
		cfg.Scrub.Key = []byte("tap-test-key")
	}
	cfg.ErrorLog = log.New(io.Discard, "", 0)
	tap, err := NewTap(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(tap)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	return &tapFixture{upstream: up, tap: tap, srv: srv, out: out}
}

// close stops the tap server and the tap, and returns what was recorded.
func (f *tapFixture) close(t *testing.T) ([]schema.Exchange, []schema.Frame) {
	t.Helper()
	f.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.tap.Close(ctx); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if f.out == nil {
		return nil, nil
	}
	f.out.mu.Lock()
	defer f.out.mu.Unlock()
	return f.out.ex, f.out.fr
}

func echoUpstream() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Proto", r.Proto)
		if r.URL.Path == "/missing" {
			w.WriteHeader(http.StatusNotFound)
		}
		fmt.Fprintf(w, "%s %s %d", r.Method, r.URL.RequestURI(), len(b))
	})
}

func TestTapRecordsExchanges(t *testing.T) {
	f := newTapFixture(t, echoUpstream(), TapConfig{
		Routes:  []TapRoute{{Prefix: "/api/", BodyLimit: 8}},
		Session: SessionKey{Kind: "cookie", Name: "sid"},
	})
	type call struct {
		method, target, body string
		wantStatus           int
		wantBody             string // recorded body
		wantTruncated        bool
	}
	calls := []call{
		// a plain GET, no body
		{"GET", "/home?x=1", "", 200, "", false},
		// a body on a route with bodies: kept up to the limit
		{"POST", "/api/items", `{"a":1}`, 200, `{"a":1}`, false},
		// a body longer than the route's limit: truncated, size kept
		{"POST", "/api/big", "0123456789abcdef", 200, "01234567", true},
		// a body off the routes: size only
		{"PUT", "/other", "hello", 200, "", true},
		// an upstream error status passes through and is recorded
		{"GET", "/missing", "", 404, "", false},
	}
	client := f.srv.Client()
	for _, c := range calls {
		req, _ := http.NewRequest(c.method, f.srv.URL+c.target, strings.NewReader(c.body))
		req.AddCookie(&http.Cookie{Name: "sid", Value: "session-one"})
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.wantStatus {
			t.Errorf("%s %s: status %d, want %d", c.method, c.target, resp.StatusCode, c.wantStatus)
		}
	}
	ex, _ := f.close(t)
	if len(ex) != len(calls) {
		t.Fatalf("recorded %d exchanges, want %d", len(ex), len(calls))
	}
	for i, c := range calls {
		e := ex[i]
		path, query, _ := strings.Cut(c.target, "?")
		if e.Method != c.method || e.Path != path || e.Query != query {
			t.Errorf("exchange %d = %s %s?%s, want %s %s", i, e.Method, e.Path, e.Query, c.method, c.target)
		}
		if e.StatusCode() != c.wantStatus {
			t.Errorf("exchange %d status = %d; want %d", i, e.StatusCode(), c.wantStatus)
		}
		if string(e.Body) != c.wantBody || e.BodySize != int64(len(c.body)) || e.BodyTruncated != c.wantTruncated {
			t.Errorf("exchange %d body = %q (size %d, truncated %v); want %q (size %d, truncated %v)",
				i, e.Body, e.BodySize, e.BodyTruncated, c.wantBody, len(c.body), c.wantTruncated)
		}
		want := int64(len(fmt.Sprintf("%s %s %d", c.method, c.target, len(c.body))))
		if e.ResponseBytes == nil || *e.ResponseBytes != want {
			t.Errorf("exchange %d response bytes = %v; want %d", i, e.ResponseBytes, want)
		}
		if d, ok := e.Latency(); !ok || d <= 0 {
			t.Errorf("exchange %d latency = %v, %v; want > 0", i, d, ok)
		}
		if e.Seq != int32(i) || e.Session != ex[0].Session || !strings.HasPrefix(e.Session, "s_") {
			t.Errorf("exchange %d session %q seq %d; want one session, seq %d", i, e.Session, e.Seq, i)
		}
		if v, _ := e.Header("Cookie"); strings.Contains(v, "session-one") {
			t.Errorf("exchange %d cookie not scrubbed: %q", i, v)
		}
		if e.Source != TapSource || e.Protocol != schema.ProtoHTTP11 {
			t.Errorf("exchange %d source %q protocol %q", i, e.Source, e.Protocol)
		}
		if i > 0 && e.Time.Before(ex[i-1].Time) {
			t.Errorf("exchange %d starts before exchange %d", i, i-1)
		}
	}
}

// TestTapHTTP2 passes HTTP/2 through: cleartext (h2c, prior knowledge)
// and over TLS (ALPN h2).
func TestTapHTTP2(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tlsOn), func(t *testing.T) {
			up := httptest.NewServer(echoUpstream())
			defer up.Close()
			u, _ := url.Parse(up.URL)
			out := &memOutput{}
			tap, err := NewTap(TapConfig{Upstream: u, Output: out, Scrub: ScrubConfig{Key: []byte("k")}})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(tap)
			srv.Config.Protocols = new(http.Protocols)
			srv.Config.Protocols.SetHTTP1(true)
			srv.Config.Protocols.SetUnencryptedHTTP2(true)
			tr := &http.Transport{Protocols: new(http.Protocols)}
			if tlsOn {
				srv.EnableHTTP2 = true
				srv.StartTLS()
				tr.TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
				tr.Protocols.SetHTTP2(true)
			} else {
				srv.Start()
				tr.Protocols.SetUnencryptedHTTP2(true)
			}
			defer srv.Close()
			resp, err := (&http.Client{Transport: tr}).Post(srv.URL+"/h2?q=1", "text/plain", strings.NewReader("abc"))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
				t.Fatalf("response %s %d; want HTTP/2 200", resp.Proto, resp.StatusCode)
			}
			srv.Close()
			if err := tap.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(out.ex) != 1 || out.ex[0].Protocol != schema.ProtoHTTP2 || out.ex[0].BodySize != 3 {
				t.Fatalf("recorded %+v; want one HTTP/2 exchange with a 3-byte body", out.ex)
			}
			if want := map[bool]string{false: "http", true: "https"}[tlsOn]; out.ex[0].Scheme != want {
				t.Errorf("scheme = %q; want %q", out.ex[0].Scheme, want)
			}
		})
	}
}

// TestTapFailOpen: with the output stuck or failing, every request still
// succeeds and the lost events are counted.
func TestTapFailOpen(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  *memOutput
	}{
		// an output that never returns: the queue fills, the rest drop
		{"stuck", &memOutput{block: make(chan struct{})}},
		// an output that fails every write
		{"failing", &memOutput{fail: errors.New("disk full")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newTapFixture(t, echoUpstream(), TapConfig{Output: tc.out, QueueSize: 8, ReorderWindow: time.Millisecond})
			const n = 200
			client := f.srv.Client()
			for i := range n {
				resp, err := client.Get(fmt.Sprintf("%s/r/%d", f.srv.URL, i))
				if err != nil {
					t.Fatalf("request %d failed: %v", i, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("request %d: status %d", i, resp.StatusCode)
				}
			}
			if tc.out.block != nil {
				close(tc.out.block) // let Close finish: the queue drains
			}
			f.close(t)
			loss := f.tap.Loss()
			if loss.Exchanges+loss.Dropped != n {
				t.Errorf("captured %d + dropped %d = %d; want %d", loss.Exchanges, loss.Dropped, loss.Exchanges+loss.Dropped, n)
			}
			if loss.Dropped == 0 {
				t.Errorf("no drops counted: %+v", loss)
			}
			if tc.out.closed == nil || tc.out.closed.Dropped != loss.Dropped {
				t.Errorf("output closed with loss %+v; want dropped %d", tc.out.closed, loss.Dropped)
			}
		})
	}
}

// TestTapSample keeps whole sessions of about the sampled share of users.
func TestTapSample(t *testing.T) {
	f := newTapFixture(t, echoUpstream(), TapConfig{Sample: 0.1, Session: SessionKey{Kind: "header", Name: "X-User"}})
	const users, each = 400, 3
	client := f.srv.Client()
	for i := range users * each {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/u/%d", f.srv.URL, i), nil)
		req.Header.Set("X-User", fmt.Sprintf("user-%d", i%users))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ex, _ := f.close(t)
	perSession := map[string]int{}
	for _, e := range ex {
		perSession[e.Session]++
	}
	for s, n := range perSession {
		if n != each {
			t.Errorf("session %s has %d requests; want all %d (sampling split a user)", s, n, each)
		}
	}
	// 10% of 400 users: 40 expected; the hash is deterministic, so a wide
	// bound only guards against a broken threshold.
	if k := len(perSession); k < 20 || k > 60 {
		t.Errorf("kept %d of %d users; want about 40", k, users)
	}
	if loss := f.tap.Loss(); loss.SampledOut != int64(users*each-len(ex)) {
		t.Errorf("sampled out %d; want %d", loss.SampledOut, users*each-len(ex))
	}
}

func TestParseTapRoute(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    TapRoute
		wantErr string
	}{
		{"/api/", TapRoute{Prefix: "/api/"}, ""},                                          // default limits
		{"/api/=4096", TapRoute{Prefix: "/api/", BodyLimit: 4096, FrameLimit: 4096}, ""},  // bytes
		{"/=64KiB", TapRoute{Prefix: "/", BodyLimit: 64 << 10, FrameLimit: 64 << 10}, ""}, // KiB
		{"/u=1MiB", TapRoute{Prefix: "/u", BodyLimit: 1 << 20, FrameLimit: 1 << 20}, ""},  // MiB
		{"api=10", TapRoute{}, "must start with /"},                                       // no leading slash
		{"/a=", TapRoute{}, "want a byte count"},                                          // empty limit
		{"/a=-5", TapRoute{}, "want a byte count"},                                        // negative
		{"/a=0", TapRoute{}, "more than 0"},                                               // zero
		{"/a=65MiB", TapRoute{}, "at most 64MiB"},                                         // too large
		{"/a=1GB", TapRoute{}, "want a byte count"},                                       // unknown unit
	} {
		got, err := ParseTapRoute(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.in) {
				t.Errorf("ParseTapRoute(%q) = %v; want an error naming it with %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseTapRoute(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseTapRoute(f *testing.F) {
	for _, s := range []string{"/api/", "/a=64KiB", "/=1MiB", "x", "/a=99999999999", "/a=1B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseTapRoute(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(r.Prefix, "/") || r.BodyLimit < 0 || r.BodyLimit > 64<<20 {
			t.Fatalf("ParseTapRoute(%q) = %+v", s, r)
		}
	})
}

// bodyOf returns a response body, for messages.
func bodyOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	var b bytes.Buffer
	io.Copy(&b, resp.Body)
	resp.Body.Close()
	return b.String()
}

// TestTapClientHeader: behind a load balancer, client-address sessions
// use the first X-Forwarded-For address, not the balancer's.
func TestTapClientHeader(t *testing.T) {
	f := newTapFixture(t, echoUpstream(), TapConfig{ClientHeader: "X-Forwarded-For"})
	client := f.srv.Client()
	for _, xff := range []string{"198.51.100.1", "198.51.100.2, 10.0.0.1", "198.51.100.1"} {
		req, _ := http.NewRequest("GET", f.srv.URL+"/", nil)
		req.Header.Set("X-Forwarded-For", xff)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		bodyOf(t, resp)
	}
	ex, _ := f.close(t)
	if len(ex) != 3 || ex[0].Session != ex[2].Session || ex[0].Session == ex[1].Session {
		t.Errorf("sessions %q %q %q; want the first and last alike, the second apart", ex[0].Session, ex[1].Session, ex[2].Session)
	}
}

// TestTapUpstreamDown: the client gets the proxy's 502, and the capture
// records it as the client saw it.
func TestTapUpstreamDown(t *testing.T) {
	f := newTapFixture(t, echoUpstream(), TapConfig{})
	f.upstream.Close()
	resp, err := f.srv.Client().Get(f.srv.URL + "/down")
	if err != nil {
		t.Fatal(err)
	}
	bodyOf(t, resp)
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d; want 502", resp.StatusCode)
	}
	ex, _ := f.close(t)
	if len(ex) != 1 || ex[0].StatusCode() != http.StatusBadGateway || ex[0].Path != "/down" {
		t.Errorf("recorded %+v; want the 502", ex)
	}
}

// TestTapUpstreamDownBody: a request the upstream never read (it is down)
// is recorded with its body, read by the tap, within the route's limit;
// without body recording its size is the declared one.
func TestTapUpstreamDownBody(t *testing.T) {
	f := newTapFixture(t, echoUpstream(), TapConfig{Routes: []TapRoute{{Prefix: "/api/", BodyLimit: 8}}})
	f.upstream.Close()
	for _, tc := range []struct{ path, body string }{
		{"/api/small", `{"a":1}`},        // within the limit: kept whole
		{"/api/big", `{"abc":12345678}`}, // over the limit: the first 8 bytes
		{"/other", `{"off":true}`},       // bodies off for the path: size only
	} {
		resp, err := f.srv.Client().Post(f.srv.URL+tc.path, "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		bodyOf(t, resp)
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("POST %s: status %d; want 502", tc.path, resp.StatusCode)
		}
	}
	ex, _ := f.close(t)
	if len(ex) != 3 {
		t.Fatalf("recorded %d exchanges; want 3", len(ex))
	}
	for i, want := range []struct {
		body      string
		size      int64
		truncated bool
	}{
		{`{"a":1}`, 7, false},
		{`{"abc":1`, 16, true},
		{"", 12, true},
	} {
		e := ex[i]
		if string(e.Body) != want.body || e.BodySize != want.size || e.BodyTruncated != want.truncated || e.StatusCode() != http.StatusBadGateway {
			t.Errorf("%s: body %q size %d truncated %v status %d; want %q %d %v 502", e.Path, e.Body, e.BodySize, e.BodyTruncated, e.StatusCode(), want.body, want.size, want.truncated)
		}
	}
}
