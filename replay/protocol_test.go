package replay

import (
	"net/url"
	"strings"
	"testing"
)

// TestProtocol: how a run speaks to its target is decided from its
// configuration alone, before anything is sent.
func TestProtocol(t *testing.T) {
	for _, tc := range []struct {
		target string
		driver string
		http2  bool
		want   string
	}{
		// --http2 with http:// is h2c, said up front.
		{"http://127.0.0.1:8080", "", true, "h2c"},
		// Plain http:// with the net/http driver.
		{"http://127.0.0.1:8080", DriverHTTP, false, "HTTP/1.1 (net/http)"},
		// https negotiates.
		{"https://127.0.0.1:8443", "", false, "HTTP/2 when the target offers it"},
		// https with --http2.
		{"https://127.0.0.1:8443", "", true, "HTTP/2 over TLS"},
	} {
		u, _ := url.Parse(tc.target)
		c := &Config{Target: u, Driver: tc.driver, HTTP2: tc.http2}
		if got := c.Protocol(); !strings.Contains(got, tc.want) {
			t.Errorf("Protocol(%s, driver %q, http2 %v) = %q; want %q", tc.target, tc.driver, tc.http2, got, tc.want)
		}
	}
	if leanSupported {
		u, _ := url.Parse("http://127.0.0.1:8080")
		if got := (&Config{Target: u}).Protocol(); got != "HTTP/1.1 (lean driver)" {
			t.Errorf("Protocol(http, auto) = %q; want the lean driver", got)
		}
	}
}
