package capture

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// fixedTransport answers every request with the same small response,
// without a network: the benchmarks measure the proxies, not loopback TCP.
type fixedTransport struct{}

const fixedBody = `{"ok":true,"items":[1,2,3,4,5,6,7,8,9,10],"note":"a small JSON answer of about a hundred bytes"}`

func (fixedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(fixedBody)),
		ContentLength: int64(len(fixedBody)), Request: r,
	}, nil
}

// discardOutput counts and forgets events.
type discardOutput struct{ n int64 }

func (o *discardOutput) AddExchange(*schema.Exchange) error { o.n++; return nil }
func (o *discardOutput) AddFrame(*schema.Frame) error       { o.n++; return nil }
func (o *discardOutput) Flush(TapLoss) (TapLost, error)     { return TapLost{}, nil }
func (o *discardOutput) Close(TapLoss) error                { return nil }

// benchRequest is an app's request: a session cookie, a bearer token, a
// query, a JSON body on one in four.
func benchRequest(i int) *http.Request {
	method, body := "GET", io.Reader(nil)
	if i%4 == 0 {
		method, body = "POST", strings.NewReader(`{"item":42,"qty":1}`)
	}
	r := httptest.NewRequest(method, "http://api.example/api/v1/items/"+itoa(i%1000)+"?page=2&sort=new", body)
	r.Header.Set("Cookie", "sid=s"+itoa(i%500)+"; theme=dark")
	r.Header.Set("Authorization", "Bearer abcdefghijklmnop")
	r.Header.Set("User-Agent", "Mozilla/5.0 (bench)")
	r.Header.Set("Accept", "application/json")
	return r
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runProxyBench serves b.N requests through h and reports the process CPU
// per request (cpu-ns/op) besides the wall time; done runs inside the
// timing (the tap's drain, so its recorder's work is counted).
func runProxyBench(b *testing.B, h http.Handler, done func()) {
	b.ReportAllocs()
	reqs := make([]*http.Request, 1000)
	for i := range reqs {
		reqs[i] = benchRequest(i)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		r := reqs[i%len(reqs)]
		if r.Method == "POST" {
			r = benchRequest(i % len(reqs)) // a fresh body
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
	if done != nil {
		done()
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkProxyBare is the bare httputil.ReverseProxy the tap is built on.
func BenchmarkProxyBare(b *testing.B) {
	up, _ := url.Parse("http://127.0.0.1:9")
	p := httputil.NewSingleHostReverseProxy(up)
	p.Transport = fixedTransport{}
	runProxyBench(b, p, nil)
}

// BenchmarkProxyBarePooled is the bare proxy with the tap's buffer pool:
// what the tap's code adds, its pooling aside.
func BenchmarkProxyBarePooled(b *testing.B) {
	up, _ := url.Parse("http://127.0.0.1:9")
	p := httputil.NewSingleHostReverseProxy(up)
	p.Transport = fixedTransport{}
	p.BufferPool = copyBuffers
	runProxyBench(b, p, nil)
}

// BenchmarkTap is the tap on the same transport: the request path, plus
// the recorder (sessions, scrubbing; bodies on) writing to an output that
// discards. cpu-ns/op minus BenchmarkProxyBare's is the CPU capture adds
// per request.
func BenchmarkTap(b *testing.B) {
	up, _ := url.Parse("http://127.0.0.1:9")
	out := &discardOutput{}
	tap, err := NewTap(TapConfig{
		Upstream: up, Transport: fixedTransport{}, Output: out, QueueSize: 1 << 20,
		Session: SessionKey{Kind: "cookie", Name: "sid"}, Routes: []TapRoute{{Prefix: "/"}},
		Scrub: ScrubConfig{Key: []byte("bench-key")},
	})
	if err != nil {
		b.Fatal(err)
	}
	runProxyBench(b, tap, func() {
		if err := tap.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
	})
	if l := tap.Loss(); l.Dropped > 0 {
		b.Fatalf("dropped %d", l.Dropped)
	}
}
