package replay

import (
	"net/url"
	"testing"
)

// TestBlockingThreads: a run reserves one P for each of its goroutines that
// wait in blocking system calls (the pacer's clock_nanosleep, the lean
// poller's epoll_wait, the WebSocket pacer's clock).
func TestBlockingThreads(t *testing.T) {
	plain, _ := url.Parse("http://127.0.0.1:8080")
	tls, _ := url.Parse("https://127.0.0.1:8443")
	lean := 0
	if leanSupported {
		lean = 1
	}
	tests := []struct {
		name string
		cfg  Config
		want int
	}{
		// Go timers (tests): no thread sleeps in a system call of its own.
		{"go clock", Config{Target: plain, GoClock: true}, 0},
		// http:// on Linux: the pacer and the lean driver's poller.
		{"lean driver", Config{Target: plain}, 1 + lean},
		// https:// goes through net/http: the pacer alone.
		{"net/http driver", Config{Target: tls}, 1},
		// WebSocket messages have a precise pacer of their own on Linux.
		{"websocket", Config{Target: plain, WebSocket: &WSConfig{}}, 1 + 2*lean},
	}
	for _, tt := range tests {
		if got := tt.cfg.blockingThreads(); got != tt.want {
			t.Errorf("%s: blockingThreads() = %d, want %d", tt.name, got, tt.want)
		}
	}
}
