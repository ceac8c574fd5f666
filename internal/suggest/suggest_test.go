package suggest

import (
	"strings"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},              // nothing to change
		{"ratio", "ratio", 0},    // equal
		{"ratioz", "ratio", 1},   // one insertion
		{"polcy", "policy", 1},   // one deletion
		{"rasio", "ratio", 1},    // one substitution
		{"", "abc", 3},           // all insertions
		{"kitten", "sitting", 3}, // the textbook case
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d; want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestNearest(t *testing.T) {
	keys := []string{"ratio", "curves", "exits", "max_rps"}
	for _, tc := range []struct {
		s    string
		norm func(string) string
		want string
	}{
		{"ratioz", nil, "ratio"},            // a typo
		{"RATIO", strings.ToLower, "ratio"}, // case folded by norm
		{"RATIO", nil, ""},                  // not folded without it
		{"xyzzy", nil, ""},                  // nothing near
		{"max-rps", func(x string) string { return strings.ReplaceAll(x, "-", "_") }, "max_rps"}, // flag spelling
	} {
		if got := Nearest(tc.s, keys, tc.norm); got != tc.want {
			t.Errorf("Nearest(%q) = %q; want %q", tc.s, got, tc.want)
		}
	}
}
