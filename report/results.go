package report

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// resultFacts is the projection of a schema.Result the report reads.
type resultFacts struct {
	Intended   time.Time  `parquet:"intended,timestamp(nanosecond:utc),delta"`
	Sent       *time.Time `parquet:"sent,optional,timestamp(nanosecond:utc)"`
	LatencyNS  int64      `parquet:"latency_ns"`
	ServiceNS  int64      `parquet:"service_ns"`
	LatenessNS int64      `parquet:"lateness_ns"`
	Status     int32      `parquet:"status"`
	Error      string     `parquet:"error,dict"`
	Route      string     `parquet:"route,dict"`
}

func (resultFacts) EventKind() schema.Kind  { return schema.KindResult }
func (r *resultFacts) EventTime() time.Time { return r.Intended }

// SummarizeResults recomputes the report of a run from its results files
// (files or dataset directories, as written by the replay engine), in memory
// bounded like an Aggregator's. The run description comes from the files'
// metadata (MetaRun); files without one are summarized with an empty
// RunInfo, and files of different runs are an error.
//
// The summary equals the one the run's Aggregator made, as long as the run
// had at most 1,000 routes (beyond that, which routes count as "other"
// depends on the order results come in).
func SummarizeResults(paths []string) (*RunSummary, error) {
	rd, err := eventlog.Open[resultFacts](paths, eventlog.Range{})
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	info, err := runInfoOf(rd.Files())
	if err != nil {
		return nil, err
	}
	a := NewAggregator(info)
	var r schema.Result
	for {
		f, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		r = schema.Result{
			Intended: f.Intended, Sent: f.Sent,
			LatencyNS: f.LatencyNS, ServiceNS: f.ServiceNS, LatenessNS: f.LatenessNS,
			Status: f.Status, Error: f.Error, Route: f.Route,
		}
		a.add(&r)
	}
	return a.Summary(), nil
}

// runInfoOf returns the run description the files share.
func runInfoOf(files []eventlog.FileInfo) (RunInfo, error) {
	var raw, from string
	for _, f := range files {
		v, ok := f.Metadata[MetaRun]
		switch {
		case !ok:
			continue
		case from == "":
			raw, from = v, f.Path
		case v != raw:
			return RunInfo{}, fmt.Errorf("report: %s and %s hold results of different runs", from, f.Path)
		}
	}
	if from == "" {
		return RunInfo{}, nil
	}
	info, err := RunInfoFrom(map[string]string{MetaRun: raw})
	if err != nil {
		return RunInfo{}, fmt.Errorf("%s: %w", from, err)
	}
	return info, nil
}
