package main

import (
	"net/url"
	"testing"
)

func TestProxyLoops(t *testing.T) {
	for _, tc := range []struct {
		listen, upstream string
		want             bool
	}{
		{"127.0.0.1:8080", "http://127.0.0.1:8080", true},      // the same address
		{"127.0.0.1:8080", "http://localhost:8080/api", true},  // localhost is loopback
		{"localhost:8080", "http://127.0.0.2:8080", true},      // all of 127/8 is this machine
		{"[::1]:8080", "http://127.0.0.1:8080", true},          // both loopback
		{":8080", "http://127.0.0.1:8080", true},               // every interface includes loopback
		{"0.0.0.0:80", "http://localhost", true},               // the scheme's default port
		{"127.0.0.1:443", "https://127.0.0.1", true},           // https's default port
		{"127.0.0.1:8080", "http://127.0.0.1:9000", false},     // another port
		{"127.0.0.1:80", "https://127.0.0.1", false},           // https defaults to 443
		{"192.0.2.1:8080", "http://127.0.0.1:8080", false},     // another host (RFC 5737 documentation address; nothing is sent)
		{":8080", "http://upstream.internal:8080", false},      // a name is not resolved
		{"127.0.0.1:8080", "http://[::1]:9000", false},         // loopback, another port
		{"0.0.0.0:9000", "http://service.default:9000", false}, // a sidecar's app on another host name
	} {
		u, err := url.Parse(tc.upstream)
		if err != nil {
			t.Fatal(err)
		}
		if got := proxyLoops(tc.listen, u); got != tc.want {
			t.Errorf("proxyLoops(%q, %q) = %v; want %v", tc.listen, tc.upstream, got, tc.want)
		}
	}
}
