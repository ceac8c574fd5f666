package main

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/surge-replay/surge/capture"
	"github.com/surge-replay/surge/capture/tapout"
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

// captureLossNote returns a line stating the capture loss (captureLoss), or
// "" when none was lost or none is recorded.
func captureLossNote(captures []string) string {
	if l := captureLoss(captures); l != nil {
		return "capture loss: " + l.String() + "\n"
	}
	return ""
}

// captureLoss returns the capture loss recorded in the captures' metadata
// by surge capture proxy (schema.MetaCaptureLoss), summed, as a run's
// results and report record it; nil when none was dropped or none is
// recorded. A directory's _surge.json holds its total; a file holds its
// run's count at the time it was closed; a topic's TOPIC-meta holds each
// run's reports (tapout.ReadLoss).
func captureLoss(captures []string) *report.CaptureLoss {
	var total capture.TapLoss
	for _, path := range captures {
		var raw string
		if kafkalog.IsAddr(path) {
			if a, err := kafkalog.ParseAddr(path); err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if l, ok, err := tapout.ReadLoss(ctx, a); err == nil && ok {
					total = total.Plus(l)
				}
				cancel()
			}
			continue
		}
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			meta, _ := eventlog.ReadDatasetMeta(path)
			raw = meta[schema.MetaCaptureLoss]
		} else if info, err := eventlog.Stat(path); err == nil {
			raw = info.Metadata[schema.MetaCaptureLoss]
		}
		var l capture.TapLoss
		if raw == "" || json.Unmarshal([]byte(raw), &l) != nil {
			continue
		}
		total = total.Plus(l)
	}
	seen := total.Exchanges + total.Frames + total.Dropped
	if total.Dropped == 0 || seen == 0 {
		return nil
	}
	return &report.CaptureLoss{Dropped: total.Dropped, Seen: seen}
}
