package report

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// MetaAbort is the key, in a results file's metadata, of why the run was
// aborted (RunSummary.AbortReason); absent when it ran to the end.
const MetaAbort = "surge.abort"

// SummaryOptions are what SummarizeRun adds to the report of a results file.
// The zero value adds nothing but the cohorts of a surge the run recorded.
type SummaryOptions struct {
	// Thresholds are evaluated on the results, as at the end of a run.
	Thresholds []Threshold
	// SurgeAt is the surge time of the cohort split: "" for the one the
	// run recorded (RunInfo.Surge), else none; "none" for no split; "auto"
	// to detect it from the intended rate (DetectSurge, in bins of a
	// minute of capture time: a minute / speed of run time); an RFC 3339
	// capture time (needs the run's recorded window_from); or an offset in
	// capture time from the replayed window's start (10m, +90s).
	SurgeAt string
}

// SummarizeRun recomputes the report of a run from its results files, like
// SummarizeResults, and adds o's thresholds, the cohort split and whether
// the run aborted (MetaAbort), then settles its verdict. Results files
// written before results carried recorded_status are read without it.
func SummarizeRun(paths []string, o SummaryOptions) (*RunSummary, error) {
	next, files, closeFn, err := openResults(paths)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	info, err := runInfoOf(files)
	if err != nil {
		return nil, err
	}
	start := info.Start
	if start.IsZero() {
		for _, f := range files {
			if !f.First.IsZero() && (start.IsZero() || f.First.Before(start)) {
				start = f.First.Truncate(time.Second)
			}
		}
	}
	surge, err := resolveSurge(paths, info, start, o.SurgeAt)
	if err != nil {
		return nil, err
	}
	gate, err := NewGate(o.Thresholds, surge)
	if err != nil {
		return nil, err
	}
	gate.SetStart(start)
	a := NewAggregator(info)
	var r schema.Result
	for {
		if err := next(&r); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		a.add(&r)
		gate.Add(&r)
	}
	s := a.Summary()
	if len(o.Thresholds) > 0 {
		s.Thresholds = gate.Evaluate(true)
	}
	s.Cohorts = gate.Cohorts()
	for _, f := range files {
		if reason, ok := f.Metadata[MetaAbort]; ok {
			s.Aborted, s.AbortReason = true, reason
		}
	}
	s.Settle()
	return s, nil
}

// openResults opens results files as schema.Results; files written before
// a later optional column (recorded_status, the connection facts) read it
// as zero. next fills r with the next result (io.EOF at the end).
func openResults(paths []string) (next func(r *schema.Result) error, files []eventlog.FileInfo, closeFn func(), err error) {
	rd, err := eventlog.Open[schema.Result](paths, eventlog.Range{})
	if err != nil {
		return nil, nil, nil, err
	}
	return func(r *schema.Result) error {
		res, err := rd.Next()
		if err == nil {
			*r = *res
		}
		return err
	}, rd.Files(), func() { rd.Close() }, nil
}

// resolveSurge returns the surge of a results file's report (see
// SummaryOptions.SurgeAt), nil for none.
func resolveSurge(paths []string, info RunInfo, start time.Time, at string) (*Surge, error) {
	speed := info.Speed
	if speed <= 0 {
		speed = 1
	}
	switch at {
	case "none":
		return nil, nil
	case "":
		return info.Surge.Surge(), nil
	case "auto":
		rd, err := eventlog.Open[resultFacts](paths, eventlog.Range{})
		if err != nil {
			return nil, err
		}
		defer rd.Close()
		c := SurgeCounter{Bin: time.Duration(float64(time.Minute) / speed)}
		for {
			f, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, err
			}
			c.Add(f.Intended)
		}
		t, ok := c.Detect()
		if !ok {
			return nil, nil
		}
		return &Surge{Offset: t.Sub(start), Source: "detected", Rule: SurgeRule()}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		if info.WindowFrom.IsZero() {
			return nil, fmt.Errorf("surge at %s: the results do not record the replayed window's start (window_from); give an offset instead", at)
		}
		return &Surge{Offset: time.Duration(float64(t.Sub(info.WindowFrom)) / speed), Capture: t, Source: "config"}, nil
	}
	d, err := time.ParseDuration(strings.TrimPrefix(at, "+"))
	if err != nil || d < 0 {
		return nil, fmt.Errorf("surge at %q is neither none, auto, a time (RFC 3339) nor an offset (10m, +90s)", at)
	}
	s := &Surge{Offset: time.Duration(float64(d) / speed), Source: "config"}
	if !info.WindowFrom.IsZero() {
		s.Capture = info.WindowFrom.Add(d)
	}
	return s, nil
}
