package memstat

import (
	"runtime"
	"testing"
)

// On Linux both figures are positive and the peak is at least the current
// size; elsewhere both are 0.
func TestRSS(t *testing.T) {
	rss, peak := RSS(), PeakRSS()
	if runtime.GOOS != "linux" {
		if rss != 0 || peak != 0 {
			t.Errorf("RSS, PeakRSS = %d, %d off Linux; want 0, 0", rss, peak)
		}
		return
	}
	if rss <= 0 || peak < rss {
		t.Errorf("RSS = %d, PeakRSS = %d; want 0 < RSS <= PeakRSS", rss, peak)
	}
}
