package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/shaper"
)

// TestControlMarkers: control events recorded in results become markers on
// the HTML report's time axes, at the wall time they were made.
func TestControlMarkers(t *testing.T) {
	start := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	r := 5.0
	ctls := []shaper.Control{
		{Op: shaper.OpSet, At: 12 * time.Second, Issued: start.Add(12500 * time.Millisecond), Set: &shaper.Settings{Ratio: &r}}, // a ratio change: labelled with the ratio
		{Op: shaper.OpPause, At: 20 * time.Second, Issued: start.Add(20 * time.Second)},                                         // a pause at its wall time
		{Op: shaper.OpStop, At: 30 * time.Second},                                                                               // no wall time: its schedule offset
	}
	want := []report.Marker{{T: 12.5, Label: "ratio 5x"}, {T: 20, Label: "pause"}, {T: 30, Label: "stop"}}
	if got := controlMarkers(ctls, start); !reflect.DeepEqual(got, want) {
		t.Errorf("controlMarkers = %v; want %v", got, want)
	}
	if got := controlMarkers(nil, start); got != nil {
		t.Errorf("controlMarkers(nil) = %v; want none", got)
	}
}
