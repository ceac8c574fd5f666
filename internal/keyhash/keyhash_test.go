package keyhash

import "testing"

func TestMix(t *testing.T) {
	// SplitMix64's first output for seed 0 is Mix(0x9e3779b97f4a7c15)
	// (Vigna's splitmix64.c): e220a8397b1dcdaf.
	if got := Mix(0x9e3779b97f4a7c15); got != 0xe220a8397b1dcdaf {
		t.Errorf("Mix(golden gamma) = %#x; want 0xe220a8397b1dcdaf", got)
	}
}

func TestUnitIdent(t *testing.T) {
	for _, tc := range []struct {
		h     uint64
		unit  float64
		ident string
	}{
		{0, 0, "s_0000000000000000"},                                                            // the bottom
		{1 << 63, 0.5, "s_8000000000000000"},                                                    // the middle
		{^uint64(0), 1 - 1.0/(1<<53), "s_ffffffffffffffff"},                                     // the top stays below 1
		{0x0123456789abcdef, float64(0x0123456789abcdef>>11) / (1 << 53), "s_0123456789abcdef"}, // leading zero kept
	} {
		if got := Unit(tc.h); got != tc.unit {
			t.Errorf("Unit(%#x) = %v; want %v", tc.h, got, tc.unit)
		}
		if got := Ident('s', tc.h); got != tc.ident {
			t.Errorf("Ident(%#x) = %q; want %q", tc.h, got, tc.ident)
		}
	}
}
