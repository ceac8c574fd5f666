package report

import (
	"fmt"
	"strings"
	"time"
)

// RatioChange is a change of a run's ratio (the default class's) made while
// it ran: from OffsetS seconds of schedule time on (pauses not counted), the
// ratio was Ratio. By says who made it ("api", "ctl", "file").
type RatioChange struct {
	OffsetS float64 `json:"offset_s"`
	Ratio   float64 `json:"ratio"`
	By      string  `json:"by,omitempty"`
}

// RatioText is the report header's ratio: the starting ratio, and when it
// changed while the run ran, each change at its offset, the final and the
// largest: "1x, then 3x at +4.2s (api), 2x at +8.4s (file): final 2x, max 3x".
func (s *RunSummary) RatioText() string {
	start := num(s.Ratio) + "x"
	if len(s.RatioChanges) == 0 {
		return start
	}
	peak := s.Ratio
	var parts []string
	for _, c := range s.RatioChanges {
		p := fmt.Sprintf("%sx at +%v", num(c.Ratio), time.Duration(c.OffsetS*float64(time.Second)).Round(100*time.Millisecond))
		if c.By != "" {
			p += " (" + c.By + ")"
		}
		parts = append(parts, p)
		peak = max(peak, c.Ratio)
	}
	final := s.RatioChanges[len(s.RatioChanges)-1].Ratio
	return fmt.Sprintf("%s, then %s: final %sx, max %sx", start, strings.Join(parts, ", "), num(final), num(peak))
}
