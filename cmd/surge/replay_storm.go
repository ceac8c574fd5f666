package main

import (
	"time"

	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/shaper"
)

// planStorms resolves the shape config's storm: entries against the
// replayed window [from, end) at the plan's speed and passes
// (docs/WEBSOCKET.md, "Reconnect storms").
func planStorms(s *shaper.Settings, from, end time.Time, speed float64, loops int) ([]shaper.Storm, error) {
	if len(s.Storm) == 0 {
		return nil, nil
	}
	storms, err := s.Storms(from, end, speed, loops)
	if err != nil {
		return nil, &exitError{exitUsage, err}
	}
	return storms, nil
}

// stormPlan is the storms as the report records them (RunInfo.StormPlan).
func stormPlan(storms []shaper.Storm) []report.StormInfo {
	var out []report.StormInfo
	for _, st := range storms {
		p, _ := shaper.NormPolicy(st.Policy)
		out = append(out, report.StormInfo{
			AtNS: int64(st.Offset), Spec: st.String(), Restart: st.Restart != "",
			Policy: p, MaxAttempts: st.MaxAttempts,
		})
	}
	return out
}
