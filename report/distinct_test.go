package report

import (
	"math"
	"strconv"
	"testing"
)

func TestDistinct(t *testing.T) {
	tests := []struct {
		n, repeat int
		exact     bool
	}{
		// Nothing.
		{0, 1, true},
		// Small, with repeats: exact.
		{1000, 3, true},
		// Past the exact limit: an estimate within 3%.
		{exactLimit + 200_000, 1, false},
	}
	for _, tt := range tests {
		var d Distinct
		for r := 0; r < tt.repeat; r++ {
			for i := 0; i < tt.n; i++ {
				d.Add("s" + strconv.Itoa(i))
			}
		}
		got, exact := d.Count()
		if exact != tt.exact {
			t.Errorf("Distinct(%d).Count() exact = %v; want %v", tt.n, exact, tt.exact)
		}
		if tt.exact && got != int64(tt.n) || math.Abs(float64(got-int64(tt.n))) > 0.03*float64(tt.n) {
			t.Errorf("Distinct(%d).Count() = %d", tt.n, got)
		}
	}
}
