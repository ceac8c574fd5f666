package tapout

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surge-replay/surge/capture"
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
	"github.com/surge-replay/surge/schema"
)

func exchange(at time.Time) *schema.Exchange {
	return &schema.Exchange{Time: at, Session: "s_1", Method: "GET", Scheme: "http", Host: "h", Path: "/", Protocol: schema.ProtoHTTP11, Source: capture.TapSource}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestKafkaDown: a flush to no broker loses its batch (counted), then the
// output refuses events for the retry period instead of waiting again.
func TestKafkaDown(t *testing.T) {
	addr, err := kafkalog.ParseAddr("kafka://" + closedAddr(t) + "/captures")
	if err != nil {
		t.Fatal(err)
	}
	k := NewKafka(addr, KafkaConfig{Timeout: 2 * time.Second, Retry: time.Hour})
	now := time.Now()
	for i := range 3 {
		if err := k.AddExchange(exchange(now.Add(time.Duration(i)))); err != nil {
			t.Fatal(err)
		}
	}
	k.AddFrame(&schema.Frame{Time: now, Session: "s_1", Direction: schema.FromClient, Opcode: 1})
	lost, err := k.Flush(capture.TapLoss{})
	if err == nil || lost != (capture.TapLost{Exchanges: 3, Frames: 1}) {
		t.Fatalf("Flush = %+v, %v; want 3 exchanges and 1 frame lost, an error", lost, err)
	}
	if err := k.AddExchange(exchange(now.Add(time.Second))); !errors.Is(err, errBackingOff) {
		t.Errorf("AddExchange after a failed flush = %v; want %v", err, errBackingOff)
	}
	k.Close(capture.TapLoss{})
}

// TestKafkaRefusesLateAndFull: an event older than one batched would break
// a partition's time order; a full batch refuses more.
func TestKafkaRefusesLateAndFull(t *testing.T) {
	addr, _ := kafkalog.ParseAddr("kafka://127.0.0.1:1/captures")
	k := NewKafka(addr, KafkaConfig{MaxBatch: 2})
	now := time.Now()
	if err := k.AddExchange(exchange(now)); err != nil {
		t.Fatal(err)
	}
	if err := k.AddExchange(exchange(now.Add(-time.Millisecond))); !errors.Is(err, errLate) {
		t.Errorf("late AddExchange = %v; want %v", err, errLate)
	}
	k.AddExchange(exchange(now.Add(time.Millisecond)))
	if err := k.AddExchange(exchange(now.Add(2 * time.Millisecond))); !errors.Is(err, errBatchFull) {
		t.Errorf("AddExchange into a full batch = %v; want %v", err, errBatchFull)
	}
}

// TestParquetLossAcrossRuns: the loss in _surge.json adds up the runs
// into one directory.
func TestParquetLossAcrossRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cap")
	now := time.Now()
	for run := range 2 {
		p, err := OpenParquet(dir, ParquetConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AddExchange(exchange(now.Add(time.Duration(run)))); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(capture.TapLoss{Exchanges: 1, Dropped: 2, DroppedBy: map[string]int64{"queue_full": 2}, Sample: 1}); err != nil {
			t.Fatal(err)
		}
	}
	meta, err := eventlog.ReadDatasetMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"source":"proxy","exchanges":2,"frames":0,"dropped":4,"dropped_by":{"queue_full":4},"sampled_out":0,"sample":1,"output_errors":0,"late":0}`
	if got := meta[schema.MetaCaptureLoss]; got != want {
		t.Errorf("loss after two runs = %s; want %s", got, want)
	}
	files, err := eventlog.Files([]string{dir}, eventlog.Range{})
	if err != nil || len(files) != 2 {
		t.Errorf("parts %v, %v; want one per run", files, err)
	}
	if _, err := os.Stat(filepath.Join(dir, FramesDir, eventlog.DatasetMeta)); err != nil {
		t.Errorf("frames dataset has no metadata: %v", err)
	}
}

// TestKafkaLossReports: each run's latest loss report in TOPIC-meta, summed,
// is the topic's capture loss.
func TestKafkaLossReports(t *testing.T) {
	addr := kafkatest.Topic(t, kafkatest.Brokers(t), 1, "")
	meta, frames := addr, addr
	meta.Topic += MetaTopicSuffix
	frames.Topic += FramesTopicSuffix
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		kafkalog.DeleteTopic(ctx, meta)
		kafkalog.DeleteTopic(ctx, frames)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, ok, err := ReadLoss(ctx, addr); ok || err != nil {
		t.Fatalf("ReadLoss before any report = %v, %v; want none", ok, err)
	}
	for _, dropped := range []int64{5, 3} { // two runs
		k := NewKafka(addr, KafkaConfig{})
		if err := k.AddExchange(exchange(time.Now())); err != nil {
			t.Fatal(err)
		}
		if _, err := k.Flush(capture.TapLoss{Exchanges: 1, Dropped: 1}); err != nil {
			t.Fatal(err)
		}
		// The final report supersedes the run's earlier one.
		if err := k.Close(capture.TapLoss{Exchanges: 1, Dropped: dropped, Sample: 1}); err != nil {
			t.Fatal(err)
		}
	}
	loss, ok, err := ReadLoss(ctx, addr)
	if err != nil || !ok || loss.Dropped != 8 || loss.Exchanges != 2 {
		t.Errorf("ReadLoss = %+v, %v, %v; want 2 exchanges and 8 dropped over the two runs", loss, ok, err)
	}
}
