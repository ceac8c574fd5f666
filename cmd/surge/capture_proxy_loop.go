package main

import (
	"net"
	"net/url"
	"strings"
)

// proxyLoops reports whether upstream is the proxy's own listen address:
// every request would come back to the proxy, forever. It compares ports
// (the scheme's default when upstream names none) and hosts: the same
// name, both loopback (localhost, 127.0.0.0/8, ::1), or listen on every
// interface (":8080", "0.0.0.0:8080", "[::]:8080") and upstream one of this
// machine's addresses. A host name other than localhost is not resolved.
func proxyLoops(listen string, upstream *url.URL) bool {
	lhost, lport, err := net.SplitHostPort(listen)
	if err != nil || upstream == nil || upstream.Hostname() == "" {
		return false
	}
	uport := upstream.Port()
	if uport == "" {
		uport = map[string]string{"http": "80", "https": "443"}[upstream.Scheme]
	}
	if lport != uport {
		return false
	}
	uhost := upstream.Hostname()
	switch {
	case strings.EqualFold(lhost, uhost):
		return true
	case isLoopbackHost(lhost) && isLoopbackHost(uhost):
		return true
	case lhost == "" || isUnspecified(lhost):
		return isLoopbackHost(uhost) || isLocalAddr(uhost)
	}
	return false
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func isUnspecified(h string) bool {
	ip := net.ParseIP(h)
	return ip != nil && ip.IsUnspecified()
}

// isLocalAddr reports whether h is an IP address of one of this machine's
// interfaces.
func isLocalAddr(h string) bool {
	ip := net.ParseIP(h)
	if ip == nil {
		return false
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}
