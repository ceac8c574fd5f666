package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// WSSettings are the written `websocket:` keys of a config
// (docs/WEBSOCKET.md):
//
//	websocket:
//	  checks:
//	    - route: /feed/*
//	      seq: $.seq
//	      stream: $.channel
//	      ts: $.ts
//	      heartbeat: 1s
//	      silence: 3
type WSSettings struct {
	Checks []WSCheck
}

// wsSettingsWire is WSSettings as written: durations as Go duration text.
type wsSettingsWire struct {
	Checks []struct {
		Route     string `json:"route"`
		Seq       string `json:"seq"`
		Stream    string `json:"stream"`
		TS        string `json:"ts"`
		Heartbeat string `json:"heartbeat"`
		Silence   int    `json:"silence"`
	} `json:"checks"`
}

// DecodeWSSettings decodes the websocket block (as JSON) strictly: an
// unknown key, a bad duration or JSON path is an error naming where
// ("websocket.checks[1].heartbeat"); every problem is returned.
func DecodeWSSettings(data []byte) (WSSettings, error) {
	var w wsSettingsWire
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return WSSettings{}, fmt.Errorf("websocket: %v", err)
	}
	var s WSSettings
	var errs []error
	for i, c := range w.Checks {
		chk := WSCheck{Route: c.Route, Seq: c.Seq, Stream: c.Stream, TS: c.TS, Silence: c.Silence}
		if c.Heartbeat != "" {
			d, err := time.ParseDuration(c.Heartbeat)
			if err != nil {
				errs = append(errs, fmt.Errorf("websocket.checks[%d].heartbeat: %q is not a duration (1s, 500ms)", i, c.Heartbeat))
			}
			chk.Heartbeat = d
		}
		for _, err := range chk.Validate() {
			errs = append(errs, fmt.Errorf("websocket.checks[%d]: %w", i, err))
		}
		s.Checks = append(s.Checks, chk)
	}
	return s, errors.Join(errs...)
}
