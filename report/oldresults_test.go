package report

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// resultV10 is a schema.Result as schema 1.0 wrote it: without
// recorded_status and the connection facts.
type resultV10 struct {
	Intended   time.Time  `parquet:"intended,timestamp(nanosecond:utc),delta"`
	Sent       *time.Time `parquet:"sent,optional,timestamp(nanosecond:utc)"`
	LatencyNS  int64      `parquet:"latency_ns"`
	ServiceNS  int64      `parquet:"service_ns"`
	LatenessNS int64      `parquet:"lateness_ns"`
	Status     int32      `parquet:"status"`
	BytesOut   int64      `parquet:"bytes_out"`
	BytesIn    int64      `parquet:"bytes_in"`
	Error      string     `parquet:"error,dict"`
	Session    string     `parquet:"session"`
	Clone      int32      `parquet:"clone"`
	User       string     `parquet:"user"`
	Seq        int32      `parquet:"seq"`
	Method     string     `parquet:"method,dict"`
	Route      string     `parquet:"route,dict"`
	Region     string     `parquet:"region,dict"`
	Device     string     `parquet:"device,dict"`
}

func (resultV10) EventKind() schema.Kind  { return schema.KindResult }
func (r *resultV10) EventTime() time.Time { return r.Intended }

// TestSummarizeResultsWithoutLaterColumns: a results file of an older surge,
// lacking the later optional columns, is read as they were zero.
func TestSummarizeResultsWithoutLaterColumns(t *testing.T) {
	info, results := goldenRun()
	path := filepath.Join(t.TempDir(), "old.parquet")
	sink, err := eventlog.CreateSink[resultV10](path, eventlog.WriterConfig{Source: "surge replay", Metadata: info.Metadata()})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		old := resultV10{Intended: r.Intended, Sent: r.Sent, LatencyNS: r.LatencyNS, ServiceNS: r.ServiceNS,
			LatenessNS: r.LatenessNS, Status: r.Status, BytesOut: r.BytesOut, BytesIn: r.BytesIn, Error: r.Error,
			Session: r.Session, Clone: r.Clone, User: r.User, Seq: r.Seq, Method: r.Method, Route: r.Route,
			Region: r.Region, Device: r.Device}
		if err := sink.Write(old); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		skipWithoutResultFiles(t, err)
		t.Fatal(err)
	}
	got, err := SummarizeResults([]string{path})
	if err != nil {
		t.Fatalf("SummarizeResults(old file) = %v; want it read", err)
	}
	if want := int64(len(results)); got.Scheduled != want {
		t.Errorf("SummarizeResults(old file).Scheduled = %d; want %d", got.Scheduled, want)
	}
}
