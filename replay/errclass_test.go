//go:build linux

package replay

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// TestErrorClassesOnBothDrivers: each error class means one thing, and both
// drivers give the same class for the same fault of the target.
func TestErrorClassesOnBothDrivers(t *testing.T) {
	refused := func(t *testing.T) *url.URL {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return &url.URL{Scheme: "http", Host: addr}
	}
	tests := []struct {
		name   string
		target func(t *testing.T) *url.URL
		class  string
		detail string // a substring of Result.Detail, when set
	}{
		// Nothing listens: the connection could not be made.
		{"refused", refused, schema.ErrConnect, "refused"},
		// Read, never answered: our timeout, not a reset.
		{"no answer", func(t *testing.T) *url.URL {
			return rawTarget(t, func(int, net.Conn) bool { time.Sleep(time.Second); return false })
		}, schema.ErrTimeout, ""},
		// Not HTTP: an unparseable response.
		{"garbage", func(t *testing.T) *url.URL {
			return rawTarget(t, func(_ int, c net.Conn) bool { c.Write([]byte("garbage\r\n\r\n")); return false })
		}, schema.ErrProtocol, ""},
		// The peer resets a fresh connection with the request in flight.
		{"peer reset", func(t *testing.T) *url.URL {
			return rawTarget(t, func(_ int, c net.Conn) bool {
				c.(*net.TCPConn).SetLinger(0)
				return false
			})
		}, schema.ErrReset, ""},
	}
	for _, tt := range tests {
		for _, drv := range drivers {
			t.Run(tt.name+"/"+drv, func(t *testing.T) {
				cfg := Config{Target: tt.target(t), Driver: drv, Timeout: 300 * time.Millisecond}
				results, st, err := collect(t, cfg, sessions(3, 1, time.Millisecond, 0), nil)
				if err != nil {
					t.Fatal(err)
				}
				if st.Scheduled != 3 || st.Dropped != 0 {
					t.Fatalf("scheduled %d dropped %d; want 3, 0", st.Scheduled, st.Dropped)
				}
				for _, r := range results {
					if r.Error != tt.class || !strings.Contains(r.Detail, tt.detail) || r.Retries != 0 {
						t.Errorf("error %q detail %q retries %d; want %q with %q, no retry", r.Error, r.Detail, r.Retries, tt.class, tt.detail)
					}
					if tt.class == schema.ErrConnect && r.Sent != nil {
						t.Errorf("a connect error has a send time: it was never written")
					}
				}
			})
		}
	}
}

// TestTLSErrorHasItsReason: a certificate the client does not trust is a
// `tls` error with the reason, not a reset; a trusted handshake is counted.
func TestTLSErrorHasItsReason(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	target, _ := url.Parse(srv.URL)
	results, _, err := collect(t, Config{Target: target}, sessions(2, 1, time.Millisecond, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Error != schema.ErrTLS || !strings.Contains(r.Detail, "certificate") {
			t.Errorf("error %q detail %q; want tls with the certificate reason", r.Error, r.Detail)
		}
	}
	results, _, err = collect(t, Config{Target: target, Insecure: true}, sessions(2, 2, time.Millisecond, 50*time.Millisecond), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := summarize(results)
	if s.OK != 4 || s.Connections.TLSHandshakes != 2 || s.Connections.Opened != 2 || s.Connections.Reused != 2 {
		t.Errorf("ok %d connections %+v; want 4 ok, 2 opened with TLS handshakes, 2 reused", s.OK, s.Connections)
	}
}

// TestValidateConnections: the connection options refuse what they cannot do.
func TestValidateConnections(t *testing.T) {
	plain, _ := url.Parse("http://127.0.0.1:8080")
	secure, _ := url.Parse("https://127.0.0.1:8443")
	for _, tt := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		// The default: per user.
		{"default", Config{Target: plain}, true},
		// A shared pool, as vegeta and wrk.
		{"shared", Config{Target: plain, Conns: ConnsShared, MaxConns: 64}, true},
		// An unknown model.
		{"unknown", Config{Target: plain, Conns: "pooled"}, false},
		// Both spellings, contradicting each other.
		{"per-user and shared", Config{Target: plain, PerUser: true, Conns: ConnsShared}, false},
		// Pipelining needs the lean driver: not over TLS.
		{"pipeline https", Config{Target: secure, Pipeline: 4}, false},
		// A negative depth.
		{"pipeline negative", Config{Target: plain, Pipeline: -1}, false},
		// Pipelining on the lean driver.
		{"pipeline lean", Config{Target: plain, Pipeline: 4}, true},
	} {
		if errs := tt.cfg.Validate(); (len(errs) == 0) != tt.ok {
			t.Errorf("%s: Validate() = %v; want ok %v", tt.name, errs, tt.ok)
		}
	}
}

// TestTLSToPlainHTTP: an https:// target whose port speaks plain HTTP is a
// `tls` error that says so and what to use, not a reset.
func TestTLSToPlainHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	target, _ := url.Parse(strings.Replace(srv.URL, "http://", "https://", 1))
	results, _, err := collect(t, Config{Target: target}, sessions(1, 2, time.Millisecond, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 {
		t.Fatalf("%d results; want 2", len(results))
	}
	for _, r := range results {
		if r.Error != schema.ErrTLS || r.Detail != plainHTTPToTLS {
			t.Errorf("error %q detail %q; want tls with %q", r.Error, r.Detail, plainHTTPToTLS)
		}
	}
}
