package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/schema"
)

// wsSettings reads the websocket: block of the config (replay's checks).
func wsSettings(cfg *config) (replay.WSSettings, error) {
	raw := cfg.s.WebSocket
	if raw == nil {
		return replay.WSSettings{}, nil
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return replay.WSSettings{}, fmt.Errorf("config %s: websocket: %v", cfg.file, err)
	}
	s, err := replay.DecodeWSSettings(data)
	if err != nil {
		return s, fmt.Errorf("config %s: %v", cfg.file, err)
	}
	return s, nil
}

// wsConfig is the WebSocket engine's configuration of a replay: the
// frames recorded beside each capture (eventlog.FramesPath) from the
// window start on, the plan's speed and the checks. A capture without
// frames still replays its upgrades as connections, which then send
// nothing and close at once.
func wsConfig(captures []string, r eventlog.Range, speed float64, s replay.WSSettings) (*replay.WSConfig, error) {
	x := replay.NewFrameIndex()
	var paths []string
	for _, c := range captures {
		// A capture proxy's _frames may hold no part yet.
		if files, err := eventlog.Files([]string{eventlog.FramesPath(c)}, eventlog.Range{}); err == nil {
			paths = append(paths, files...)
		}
		// A directory of capture files: the frames files beside them.
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			beside, _ := filepath.Glob(filepath.Join(c, "*"+eventlog.FramesSuffix))
			paths = append(paths, beside...)
		}
	}
	if len(paths) > 0 {
		// Frames of a connection opened in the window may come after it.
		rd, err := eventlog.Open[schema.Frame](paths, eventlog.Range{From: r.From})
		if err != nil {
			return nil, fmt.Errorf("frames: %w", err)
		}
		defer rd.Close()
		for {
			f, err := rd.Next()
			if err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("frames: %w", err)
			}
			x.Add(f)
		}
	}
	return &replay.WSConfig{Frames: x, Speed: speed, Checks: s.Checks}, nil
}

// wsEngine is the WebSocket configuration of a run of plan: the frames
// beside file captures (a Kafka capture has none yet).
func (o *replayOptions) wsEngine(plan replayPlan) (*replay.WSConfig, error) {
	if _, isKafka, _ := kafkaCapture(o.captures); isKafka {
		return &replay.WSConfig{Speed: plan.Speed, Checks: o.ws.Checks}, nil
	}
	return wsConfig(o.captures, eventlog.Range{From: plan.From}, plan.Speed, o.ws)
}
