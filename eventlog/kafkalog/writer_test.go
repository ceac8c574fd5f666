package kafkalog_test

import (
	"context"
	"testing"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
)

// TestWriterChunks: a Writer sends a chunk while the next one fills; every
// record arrives once, in order per partition, and Count counts them all
// after Close.
func TestWriterChunks(t *testing.T) {
	a := kafkatest.Topic(t, kafkatest.Brokers(t), 3, "")
	evs := benchExchanges(95_000) // three full chunks of 30,000 and a part
	w, err := kafkalog.NewWriter(context.Background(), a, kafkalog.WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(evs...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := w.Count(); got != int64(len(evs)) {
		t.Errorf("Count() = %d; want %d", got, len(evs))
	}
	got, err := readAll(t, a, eventlog.Range{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(evs) {
		t.Fatalf("read %d events; want %d", len(got), len(evs))
	}
	for i := range got {
		if !got[i].Time.Equal(evs[i].Time) || got[i].Path != evs[i].Path {
			t.Fatalf("event %d = %s %s; want %s %s", i, got[i].Time, got[i].Path, evs[i].Time, evs[i].Path)
		}
	}
}

// TestWriterError: the error of a write in flight shows at a later Add or
// at Close, and nothing unacknowledged is counted.
func TestWriterError(t *testing.T) {
	a := kafkatest.Topic(t, kafkatest.Brokers(t), 1, "")
	ctx, cancel := context.WithCancel(context.Background())
	w, err := kafkalog.NewWriter(ctx, a, kafkalog.WriterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cancel() // every write from now on fails
	evs := benchExchanges(30_001)
	err = w.Write(evs...)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		t.Fatal("Write and Close after the context ended = nil; want an error")
	}
	if got := w.Count(); got != 0 {
		t.Errorf("Count() = %d; want 0", got)
	}
}
