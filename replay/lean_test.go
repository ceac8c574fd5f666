//go:build linux

package replay

import (
	"bufio"
	"net"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// rawTarget is a TCP server on loopback whose answers a test writes byte
// for byte: answer gets each request (numbered from 0 across connections)
// and the connection, and returns whether to keep reading requests on it.
func rawTarget(t *testing.T, answer func(n int, c net.Conn) bool) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					// A request: lines up to the empty one (GETs, no body).
					for {
						line, err := br.ReadString('\n')
						if err != nil {
							return
						}
						if line == "\r\n" {
							break
						}
					}
					if !answer(int(n.Add(1)-1), c) {
						return
					}
				}
			}()
		}
	}()
	return &url.URL{Scheme: "http", Host: ln.Addr().String()}
}

// twoRequests is one session of two GETs, gap apart.
func twoRequests(gap time.Duration) *slice {
	var reqs []shaper.Request
	for i := range 2 {
		reqs = append(reqs, shaper.Request{
			At: time.Duration(i) * gap, Session: "s", VirtualSession: "s", User: "u", First: i == 0,
			Exchange: &schema.Exchange{Method: "GET", Path: "/x", Seq: int32(i)},
		})
	}
	return &slice{reqs: reqs}
}

// TestLeanDriverResponses runs the lean driver against targets that answer
// in the awkward ways real servers do, and checks each result.
func TestLeanDriverResponses(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	tests := []struct {
		name   string
		answer func(n int, c net.Conn) bool
		want   [2]string // the two results: "200" or an error class
	}{
		// A chunked response written 4 bytes at a time: the poller parses
		// it across many reads (17 writes; a byte at a time was 63 sleeps,
		// which a loaded machine can stretch past the 300 ms timeout).
		{"chunked in pieces", func(n int, c net.Conn) bool {
			for b := []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"); len(b) > 0; {
				k := min(4, len(b))
				c.Write(b[:k])
				b = b[k:]
				time.Sleep(100 * time.Microsecond)
			}
			return true
		}, [2]string{"200", "200"}},
		// Connection: close after each answer: the next request opens a
		// new connection.
		{"close after each", func(n int, c net.Conn) bool {
			c.Write([]byte("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"))
			return false
		}, [2]string{"200", "200"}},
		// No length: the body runs to the end of the connection.
		{"body to EOF", func(n int, c net.Conn) bool {
			c.Write([]byte("HTTP/1.1 200 OK\r\n\r\nall of it"))
			return false
		}, [2]string{"200", "200"}},
		// The target closes an idle keep-alive connection before the
		// second request: it is sent again on a new one, not failed.
		{"stale keep-alive", func(n int, c net.Conn) bool {
			c.Write([]byte(ok))
			if n == 0 {
				time.Sleep(20 * time.Millisecond)
				return false
			}
			return true
		}, [2]string{"200", "200"}},
		// Not HTTP: a protocol error.
		{"garbage", func(n int, c net.Conn) bool {
			c.Write([]byte("SSH-2.0-OpenSSH\r\n\r\n"))
			return false
		}, [2]string{schema.ErrProtocol, schema.ErrProtocol}},
		// Cut in the middle of the head: reset.
		{"cut short", func(n int, c net.Conn) bool {
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Le"))
			return false
		}, [2]string{schema.ErrReset, schema.ErrReset}},
		// No answer at all: a timeout.
		{"silent", func(n int, c net.Conn) bool {
			time.Sleep(2 * time.Second)
			return false
		}, [2]string{schema.ErrTimeout, schema.ErrTimeout}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := rawTarget(t, tt.answer)
			cfg := Config{Target: target, Driver: DriverLean, Timeout: 300 * time.Millisecond, Grace: time.Second}
			results, st, err := collect(t, cfg, twoRequests(100*time.Millisecond), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != 2 || st.Sent != 2 {
				t.Fatalf("%d results, %d sent; want 2, 2", len(results), st.Sent)
			}
			for i, r := range sortedBySeq(results) {
				got := r.Error
				if got == "" {
					got = strconv.Itoa(int(r.Status))
				}
				if got != tt.want[i] {
					t.Errorf("request %d: %s (%+v); want %s", i, got, r, tt.want[i])
				}
				if got == "200" && (r.BytesIn == 0 || r.ServiceNS <= 0) {
					t.Errorf("request %d: %d bytes in, service %d ns", i, r.BytesIn, r.ServiceNS)
				}
			}
		})
	}
}
