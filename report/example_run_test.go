package report_test

import (
	"fmt"
	"time"

	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

func ExampleAggregator() {
	start := time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC)
	agg := report.NewAggregator(report.RunInfo{
		Target: "http://127.0.0.1:8080", Ratio: 3, Speed: 1, Mode: "timeline", Start: start,
	})
	// 1,000 requests over 10 s, answered in 20 ms; every 100th a 503.
	for i := range 1000 {
		intended := start.Add(time.Duration(i) * 10 * time.Millisecond)
		sent := intended.Add(200 * time.Microsecond)
		r := schema.Result{
			Intended: intended, Sent: &sent, Status: 200, Route: "GET /live/{id}/index.m3u8",
			LatenessNS: int64(200 * time.Microsecond), ServiceNS: int64(20 * time.Millisecond),
			LatencyNS: int64(20*time.Millisecond + 200*time.Microsecond),
		}
		if i%100 == 99 {
			r.Status = 503
		}
		agg.Add(&r)
	}
	s := agg.Summary()
	fmt.Printf("sent %d, ok %d, errors %d %v\n", s.Sent, s.OK, s.Errors, s.ErrorsBy)
	fmt.Printf("intended %.0f/s, achieved %.0f/s, p99 %.1f ms\n", s.IntendedRPS, s.AchievedRPS, s.Latency.P99)
	fmt.Println(s.Verdict())
	// Output:
	// sent 1000, ok 990, errors 10 map[http_5xx:10]
	// intended 100/s, achieved 100/s, p99 20.2 ms
	// generator kept up: p99 lateness 0.2 ms
}

func ExampleProgress_String() {
	p := report.Progress{
		Elapsed: 42 * time.Second, Total: time.Minute,
		Scheduled: 12_400, Sent: 12_345, Errors: 37, Rate: 2001,
		P99: 142 * time.Millisecond, LatenessP99: 300 * time.Microsecond,
		Recent: report.Recent{Span: 5 * time.Second, IntendedRPS: 2000, SentRPS: 2001, Sent: 10005, Errors: 50, P99: 151 * time.Millisecond},
	}
	fmt.Println(p)
	// Output:
	// 0:42/1:00  last 5s: intended 2,000/s sent 2,001/s dropped 0 err 0.5% p99 151 ms | total sent 12,345 err 0.3% late p99 0.3 ms
}

func ExampleRunInfo_Metadata() {
	info := report.RunInfo{
		Target: "https://staging.example.test", Capture: []string{"final.parquet"},
		Ratio: 3, Speed: 1, Seed: 42, Mode: "timeline",
		Start: time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC),
	}
	// The replay engine writes this into its results sink's metadata
	// (eventlog.WriterConfig.Metadata); SummarizeResults reads it back.
	fmt.Println(info.Metadata()[report.MetaRun])
	// Output:
	// {"target":"https://staging.example.test","capture":["final.parquet"],"ratio":3,"speed":1,"seed":42,"mode":"timeline","start":"2026-06-01T20:00:00Z"}
}
