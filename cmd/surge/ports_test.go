package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"testing"
)

// handedOut are the ports freeAddr gave this test process.
var handedOut = struct {
	sync.Mutex
	m map[int]bool
}{m: map[int]bool{}}

// freeAddr returns a loopback address (127.0.0.1:PORT) nothing listened on
// a moment ago, for a server the test starts next.
//
// The port is closed again before that server binds it. A port from the
// kernel's ephemeral range (bind to :0) can be taken in that window by any
// outgoing connection of any test on the machine, and CI saw "address
// already in use" from it; so the port is drawn at random from below the
// ephemeral range (net.ipv4.ip_local_port_range), where only an explicit
// bind can land, and never twice in one process.
func freeAddr(t *testing.T) string {
	t.Helper()
	low := ephemeralLow()
	const floor = 10000
	for range 1000 {
		port := floor + rand.IntN(low-floor)
		handedOut.Lock()
		taken := handedOut.m[port]
		handedOut.m[port] = true
		handedOut.Unlock()
		if taken {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		return ln.Addr().String()
	}
	t.Fatalf("no free loopback port in [%d, %d) after 1000 tries", floor, low)
	return ""
}

// ephemeralLow returns the first port of the kernel's ephemeral range:
// 32768 (Linux's default) when /proc does not say, or says less than
// 20000.
func ephemeralLow() int {
	var low, high int
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		_, err = fmt.Sscan(string(b), &low, &high)
	}
	if err != nil || low < 20000 {
		return 32768
	}
	return low
}
