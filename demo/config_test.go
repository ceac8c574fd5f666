package demo

import (
	"errors"
	"maps"
	"testing"
	"time"
)

func TestStartRefusesNonLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want error // nil: accepted
	}{
		{"0.0.0.0:0", ErrNotLoopback},      // every IPv4 interface
		{"192.0.2.1:80", ErrNotLoopback},   // another host (a documentation address)
		{":0", ErrNotLoopback},             // an empty host is every interface
		{"[::]:0", ErrNotLoopback},         // every IPv6 interface
		{"example.com:80", ErrNotLoopback}, // names other than localhost
		{"[fe80::1%lo]:0", ErrNotLoopback}, // link-local with a zone
		{"198.51.100.1:0", ErrNotLoopback}, // a documentation address
		{"127.0.0.1:0", nil},               // loopback
		{"127.1.2.3:0", nil},               // all of 127.0.0.0/8 is loopback
		{"[::1]:0", nil},                   // IPv6 loopback
		{"localhost:0", nil},               // means 127.0.0.1
		{"LOCALHOST:0", nil},               // names are case-insensitive
	}
	for _, tt := range tests {
		_, err := loopbackAddr(tt.addr)
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("loopbackAddr(%q) = %v; want %v", tt.addr, err, tt.want)
		}
		if tt.want == nil && err != nil {
			t.Errorf("loopbackAddr(%q) = %v; want nil", tt.addr, err)
		}
		if tt.want == nil {
			continue
		}
		// Start refuses before listening: a listen on 192.0.2.1 would fail
		// with a different error, and 0.0.0.0 would succeed.
		if srv, err := Start(Config{Addr: tt.addr}); !errors.Is(err, ErrNotLoopback) {
			if srv != nil {
				srv.Close()
			}
			t.Errorf("Start(Addr %q) = %v; want %v", tt.addr, err, ErrNotLoopback)
		}
		if _, err := New(Config{Addr: tt.addr}); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("New(Addr %q) = %v; want %v", tt.addr, err, ErrNotLoopback)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	var c Config
	if got := c.addr(); got != "127.0.0.1:0" {
		t.Errorf("addr() = %q; want 127.0.0.1:0", got)
	}
	if got := c.queueTimeout(); got != 500*time.Millisecond {
		t.Errorf("queueTimeout() = %v; want 500ms", got)
	}
	caps, err := c.capacities()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"session": 3, "home": 4, "browse": 6, "search": 4, "recommendations": 4,
		"manifest": 12, "segment": 8, "chat": 12, "heartbeat": 8}
	if got := DefaultCapacity(); !maps.Equal(got, want) {
		t.Errorf("DefaultCapacity() = %v; want %v", got, want)
	}
	for cl := range numClasses {
		if caps[cl] != want[cl.String()] {
			t.Errorf("capacity of %s = %d; want %d", cl, caps[cl], want[cl.String()])
		}
	}
}

func TestConfigCapacity(t *testing.T) {
	tests := []struct {
		name     string
		capacity map[string]int
		class    class
		want     int
		err      error
	}{
		// A class set explicitly.
		{"set", map[string]int{"search": 20}, classSearch, 20, nil},
		// Other classes keep their defaults.
		{"others", map[string]int{"search": 20}, classHome, 4, nil},
		// Zero means the default.
		{"zero", map[string]int{"session": 0}, classSession, 3, nil},
		// So does a negative value.
		{"negative", map[string]int{"session": -1}, classSession, 3, nil},
		// A typo is an error, not a silently ignored key.
		{"unknown", map[string]int{"serach": 20}, classSearch, 4, ErrUnknownClass},
	}
	for _, tt := range tests {
		c := Config{Capacity: tt.capacity}
		caps, err := c.capacities()
		if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("%s: capacities() error = %v; want %v", tt.name, err, tt.err)
		}
		if caps[tt.class] != tt.want {
			t.Errorf("%s: capacity of %s = %d; want %d", tt.name, tt.class, caps[tt.class], tt.want)
		}
		if _, err := New(c); !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("%s: New() error = %v; want %v", tt.name, err, tt.err)
		}
	}
}
