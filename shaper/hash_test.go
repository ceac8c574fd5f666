package shaper

import (
	"testing"
	"time"

	"github.com/surge-replay/surge/internal/keyhash"
)

func TestKeyedStable(t *testing.T) {
	// Fixed values (checked against an independent implementation of
	// FNV-1a + SplitMix64): the schedule of a seed must be the same on every
	// machine and in every version, or a run cannot be repeated.
	tests := []struct {
		domain      byte
		seed        uint64
		loop, clone int32
		key         string
		want        uint64
	}{
		{domainClones, 0, 0, 0, "", 0x7482be86f0e2c9d4},               // the empty input
		{domainClones, 42, 0, 0, "s_00001", 0x08bbbccfb2e6fcba},       // a clone decision
		{domainJitter, 42, 0, 1, "s_00001", 0xd49e1c7225c70106},       // another domain, same key
		{domainUser, 42, 1, 2, "u_00007", 0xeafe2571aa320cf0},         // a virtual user
		{domainSession, 1 << 63, 3, 9, "s_00001", 0x91fb820939d5184f}, // high seed bits count
	}
	for _, tt := range tests {
		if got := keyed(tt.domain, tt.seed, tt.loop, tt.clone, tt.key); got != tt.want {
			t.Errorf("keyed(%q, %d, %d, %d, %q) = %#x; want %#x", tt.domain, tt.seed, tt.loop, tt.clone, tt.key, got, tt.want)
		}
	}
}

func TestIdent(t *testing.T) {
	if got, want := keyhash.Ident('u', 0x0123456789abcdef), "u_0123456789abcdef"; got != want {
		t.Errorf("keyhash.Ident('u', 0x0123456789abcdef) = %q; want %q", got, want)
	}
}

func TestUnitBelow(t *testing.T) {
	tests := []struct {
		h    uint64
		unit float64       // keyhash.Unit(h)
		n    time.Duration // below(h, n) ...
		want time.Duration // ... is this
	}{
		{0, 0, 10 * time.Second, 0},                                         // the bottom
		{1 << 63, 0.5, 10 * time.Second, 5 * time.Second},                   // the middle
		{^uint64(0), 1 - 1.0/(1<<53), 10 * time.Second, 10*time.Second - 1}, // the top stays below n
	}
	for _, tt := range tests {
		if got := keyhash.Unit(tt.h); got != tt.unit {
			t.Errorf("keyhash.Unit(%#x) = %v; want %v", tt.h, got, tt.unit)
		}
		if got := below(tt.h, tt.n); got != tt.want {
			t.Errorf("below(%#x, %v) = %v; want %v", tt.h, tt.n, got, tt.want)
		}
	}
}

func TestClones(t *testing.T) {
	tests := []struct {
		r, u float64
		want int32
	}{
		{2.5, 0.49, 3}, // u below the fraction: one more
		{2.5, 0.5, 2},  // u at the fraction: not
		{0.6, 0.1, 1},  // below 1: kept
		{0.6, 0.7, 0},  // below 1: dropped
		{3, 0.999, 3},  // whole: exact
		{0, 0, 0},      // zero: dropped whatever u
	}
	for _, tt := range tests {
		if got := clones(tt.r, tt.u); got != tt.want {
			t.Errorf("clones(%v, %v) = %d; want %d", tt.r, tt.u, got, tt.want)
		}
	}
}
