package report

import (
	"fmt"
	"time"
)

// stormMarkers returns a marker per reconnect storm of s ("storm 1").
func stormMarkers(s *RunSummary) []Marker {
	var ms []Marker
	for i, st := range s.Storms {
		ms = append(ms, Marker{T: time.Duration(st.AtNS).Seconds(), Label: fmt.Sprintf("storm %d", i+1)})
	}
	return ms
}

// stormChart returns the chart of the storms' reconnect attempts and of the
// clients back, per second, on the run's time axis; nil without storms.
func stormChart(s *RunSummary, ms []Marker, x0, x1 float64) *chart {
	if len(s.Storms) == 0 {
		return nil
	}
	c := &chart{ID: "storms", Title: "Reconnect storms: reconnect attempts and clients back per second", Unit: "per s", Markers: ms, X0: x0, X1: x1}
	for i, st := range s.Storms {
		at := time.Duration(st.AtNS).Seconds()
		for j, col := range []struct {
			name string
			n    []int64
		}{{"attempts", st.AttemptsPerSecond}, {"back", st.BackPerSecond}} {
			l := chartLine{Name: fmt.Sprintf("storm %d %s", i+1, col.name), Color: palette[(2*i+j)%len(palette)]}
			for k, n := range col.n {
				l.X = append(l.X, at+float64(k))
				l.Y = append(l.Y, float64(n))
			}
			c.X1 = max(c.X1, at+float64(len(col.n)))
			if len(l.X) > 0 {
				c.Lines = append(c.Lines, l)
			}
		}
	}
	if len(c.Lines) == 0 {
		c.Note = "no client was cut off"
	}
	return c
}
