package capture

import (
	"runtime/debug"
	"testing"
)

// SetTapGC sets GOGC 400 unless the GOGC environment variable chose one,
// which it leaves in force.
func TestSetTapGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	tests := []struct {
		name, env string
		set       int // GOGC set by the program before the call (as the runtime does from the environment)
		want      int
	}{
		{"no GOGC: the tap's", "", 100, TapGCPercent}, // the default of surge capture proxy
		{"GOGC=200 chosen", "200", 200, 200},          // the operator's choice stands
		{"GOGC=off chosen", "off", -1, -1},            // off stays off
	}
	for _, tt := range tests {
		t.Setenv("GOGC", tt.env)
		debug.SetGCPercent(tt.set)
		if got := SetTapGC(); got != tt.want {
			t.Errorf("%s: SetTapGC() = %d, want %d", tt.name, got, tt.want)
		}
		if got := debug.SetGCPercent(tt.set); got != tt.want {
			t.Errorf("%s: GOGC in force = %d, want %d", tt.name, got, tt.want)
		}
	}
}
