package kafkalog_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
	"github.com/surge-replay/surge/schema"
)

// benchEvents is how many events one benchmark iteration moves.
const benchEvents = 200_000

// benchExchanges returns n exchanges shaped like an imported access log:
// hashed ids, a user agent header, a query, response facts (about 250 bytes
// encoded), 2,000 sessions, 100 µs apart.
func benchExchanges(n int) []schema.Exchange {
	evs := make([]schema.Exchange, n)
	for i := range evs {
		s := i % 2000
		evs[i] = schema.Exchange{
			Time: base.Add(time.Duration(i) * 100 * time.Microsecond), Session: fmt.Sprintf("s_%016x", s*7919),
			User: fmt.Sprintf("u_%016x", s*104729), Seq: int32(i / 2000), Method: "GET", Scheme: "https",
			Host: "api.example.com", Path: fmt.Sprintf("/api/v1/catalog/items/%d", i%5000), Query: "page=1&lang=en",
			Headers: []schema.Header{{Name: "User-Agent", Value: "StreamCo/9.2.0 (Android 16; SM-S931B) okhttp/4.12.0"}},
			Status:  schema.Int32(200), ResponseBytes: schema.Int64(int64(1000 + i%20000)), LatencyNS: schema.Int64(int64(i % 90e6)),
			Device: "mobile", Protocol: schema.ProtoHTTP2, Source: "combined",
		}
	}
	return evs
}

// BenchmarkProduce: events/s a Writer produces (encode, batch, zstd,
// acks=all) to a topic of 6 partitions on the real broker.
func BenchmarkProduce(b *testing.B) {
	a := kafkatest.Topic(b, kafkatest.Brokers(b), 6, "")
	evs := benchExchanges(benchEvents)
	ctx := context.Background()
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		w, err := kafkalog.NewWriter(ctx, a, kafkalog.WriterConfig{Source: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		for i := range evs {
			if err := w.Add(&evs[i]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		n += len(evs)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkConsumeDecode: events/s a Reader delivers in time order from a
// topic of 6 partitions on the real broker (fetch, decode, k-way merge).
func BenchmarkConsumeDecode(b *testing.B) {
	a := kafkatest.Topic(b, kafkatest.Brokers(b), 6, "")
	produce(b, a, benchExchanges(benchEvents))
	ctx := context.Background()
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		r, err := kafkalog.OpenReader(ctx, a, eventlog.Range{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		r.Close()
	}
	if n%benchEvents != 0 {
		b.Fatalf("read %d events; want a multiple of %d", n, benchEvents)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
}
