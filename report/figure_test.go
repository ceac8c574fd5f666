package report

import (
	"math"
	"testing"
)

func TestFig(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{2251.368, "2,251"},   // whole from 100 up, separators
		{2251.5, "2,252"},     // rounded, not truncated
		{99.5, "100"},         // the boundary rounds up
		{99.4, "99.4"},        // three significant digits below
		{12.34, "12.3"},       // one decimal
		{1.234, "1.23"},       // two decimals
		{0.01234, "0.0123"},   // small values keep three digits
		{1.2, "1.2"},          // trailing zeros dropped
		{0.4, "0.4"},          // …
		{5, "5"},              // an integer below 100
		{0, "0"},              // zero
		{-12.34, "-12.3"},     // negative
		{0.0000001, "0"},      // below six decimals
		{math.NaN(), "NaN"},   // not a number
		{math.Inf(1), "+Inf"}, // infinite
	} {
		if got := Fig(tc.v); got != tc.want {
			t.Errorf("Fig(%v) = %q; want %q", tc.v, got, tc.want)
		}
	}
}

func TestRatio(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{1.2000000000000002, "1.2"}, // float noise of 0.2 × 6
		{0.6000000000000001, "0.6"}, // of 0.2 × 3
		{2.5, "2.5"},                // exact
		{1.75, "1.75"},              // two decimals
		{20, "20"},                  // whole
		{0.125, "0.125"},            // three decimals
		{0, "0"},                    // zero
	} {
		if got := Ratio(tc.v); got != tc.want {
			t.Errorf("Ratio(%v) = %q; want %q", tc.v, got, tc.want)
		}
	}
}
