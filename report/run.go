package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// MetaRun is the key, in a results file's key/value metadata, of the run
// description: the JSON of a RunInfo. The replay engine writes it (see
// RunInfo.Metadata) so that surge report can recompute a run's report from
// its results alone.
const MetaRun = "surge.run"

// ErrNoRunInfo means metadata has no MetaRun entry.
var ErrNoRunInfo = errors.New("report: no run description (" + MetaRun + ") in the metadata")

// RunInfo describes a replay run: what was replayed, against what, and how.
// It heads the report (text and JSON) and travels in the results file's
// metadata.
type RunInfo struct {
	// Target is the base URL the requests went to.
	Target string `json:"target"`
	// Capture names the capture files or datasets replayed.
	Capture []string `json:"capture"`
	// Ratio is the amplification: 3 replays three sessions for every
	// recorded one.
	Ratio float64 `json:"ratio"`
	// Speed is the time compression: 2 replays twice as fast as recorded.
	Speed float64 `json:"speed"`
	// Seed seeds the run's deterministic choices (clones, jitter).
	Seed uint64 `json:"seed"`
	// Mode is "timeline" (open loop: every request at its scheduled time) or
	// "closed" (each session's next request waits for the previous answer).
	Mode string `json:"mode"`
	// Start is when the run started: the zero of the schedule's clock, and
	// of the report's per-second series. Zero means the whole second of the
	// earliest intended time.
	Start time.Time `json:"start"`
	// WindowFrom is the capture time the schedule's zero stands for: the
	// replayed window's start. Zero when unknown.
	WindowFrom time.Time `json:"window_from,omitzero"`
	// Surge is the surge time the run split its cohorts at; nil without one.
	Surge *SurgeInfo `json:"surge,omitempty"`
	// StormPlan are the run's reconnect storms (storm.go); the report's
	// Storms are computed from them and the WebSocket connection attempts.
	StormPlan []StormInfo `json:"storm_plan,omitempty"`
	// CaptureLoss is what the recorder of the replayed capture dropped
	// (surge capture proxy's schema.MetaCaptureLoss, summed over the
	// captures); nil when nothing was dropped or nothing is recorded.
	CaptureLoss *CaptureLoss `json:"capture_loss,omitempty"`
}

// CaptureLoss is the capture loss a run's report states: the replayed
// capture lacks Dropped of the Seen events its recorder saw (recorded +
// dropped), so the replayed rates are low by that fraction.
type CaptureLoss struct {
	Dropped int64 `json:"dropped"`
	Seen    int64 `json:"seen"`
}

// String is the loss as the reports state it.
func (l *CaptureLoss) String() string {
	if l == nil || l.Seen == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d events (%.2f%%) were dropped when the capture was recorded; the replayed rates are low by that much",
		l.Dropped, l.Seen, 100*float64(l.Dropped)/float64(l.Seen))
}

// SurgeInfo records a run's surge time: OffsetS seconds from the run's start
// (Surge.Offset), found as Source says (Surge).
type SurgeInfo struct {
	OffsetS float64   `json:"offset_s"`
	Capture time.Time `json:"capture,omitzero"`
	Source  string    `json:"source"`
	Rule    string    `json:"rule,omitempty"`
}

// Info returns s as recorded in a RunInfo.
func (s *Surge) Info() *SurgeInfo {
	if s == nil {
		return nil
	}
	return &SurgeInfo{OffsetS: s.Offset.Seconds(), Capture: s.Capture, Source: s.Source, Rule: s.Rule}
}

// Surge returns the surge i records.
func (i *SurgeInfo) Surge() *Surge {
	if i == nil {
		return nil
	}
	return &Surge{Offset: time.Duration(i.OffsetS * float64(time.Second)), Capture: i.Capture, Source: i.Source, Rule: i.Rule}
}

// Metadata returns the key/value metadata that records i in a results file:
// MetaRun with the JSON of i. Put it in the eventlog.WriterConfig.Metadata of
// the results sink. A Ratio or Speed that is not finite is written as 0.
func (i RunInfo) Metadata() map[string]string {
	b, err := json.Marshal(i.normal())
	if err != nil {
		// Unreachable: every field of a RunInfo with finite floats marshals.
		panic("report: " + err.Error())
	}
	return map[string]string{MetaRun: string(b)}
}

// normal returns i with Start in UTC without a monotonic clock reading, and
// non-finite floats (which JSON cannot hold) as 0.
func (i RunInfo) normal() RunInfo {
	i.Start = i.Start.Round(0).UTC()
	i.WindowFrom = i.WindowFrom.Round(0).UTC()
	if math.IsNaN(i.Ratio) || math.IsInf(i.Ratio, 0) {
		i.Ratio = 0
	}
	if math.IsNaN(i.Speed) || math.IsInf(i.Speed, 0) {
		i.Speed = 0
	}
	return i
}

// RunInfoFrom reads the run description from the key/value metadata of a
// results file. It returns ErrNoRunInfo when there is none.
func RunInfoFrom(meta map[string]string) (RunInfo, error) {
	v, ok := meta[MetaRun]
	if !ok {
		return RunInfo{}, ErrNoRunInfo
	}
	var i RunInfo
	if err := json.Unmarshal([]byte(v), &i); err != nil {
		return RunInfo{}, fmt.Errorf("report: metadata %s: %w", MetaRun, err)
	}
	i.Start = i.Start.UTC()
	return i, nil
}
