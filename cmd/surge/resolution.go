package main

import (
	"fmt"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// parseResolution reads --time-resolution: "auto" (auto true: what the
// import recorded), "0" (exact times) or a positive Go duration.
func parseResolution(s string) (d time.Duration, auto bool, err error) {
	switch s {
	case "", "auto":
		return 0, true, nil
	case "0":
		return 0, false, nil
	}
	d, err = time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, false, fmt.Errorf("%q: want auto, 0 or a positive duration (1s)", s)
	}
	return d, false, nil
}

// captureResolution is the time resolution whose shared instants the shaper
// spreads: the flag's, or with "auto" the coarsest the capture files
// recorded at import (schema.MetaResolution). A file without it (written
// before it, or a Kafka topic) counts as exact times.
func captureResolution(captures []string, flag string) (time.Duration, error) {
	d, auto, err := parseResolution(flag)
	if err != nil || !auto {
		return d, err
	}
	if _, ok, _ := kafkaCapture(captures); ok {
		return 0, nil
	}
	files, err := eventlog.Files(captures, eventlog.Range{})
	if err != nil {
		return 0, err
	}
	var res time.Duration
	for _, f := range files {
		info, err := eventlog.Stat(f)
		if err != nil {
			return 0, err
		}
		v, ok := info.Metadata[schema.MetaResolution]
		if !ok {
			continue
		}
		r, err := time.ParseDuration(v)
		if err != nil || r < 0 {
			return 0, fmt.Errorf("%s: metadata %s = %q is not a duration", f, schema.MetaResolution, v)
		}
		res = max(res, r)
	}
	return res, nil
}
