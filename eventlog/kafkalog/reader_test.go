package kafkalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
	"github.com/surge-replay/surge/schema"
)

// base is the time of the first test event; its nanoseconds make window
// bounds fall inside Kafka's millisecond timestamps.
var base = time.Date(2026, 11, 21, 20, 0, 0, 123456789, time.UTC)

// events returns n exchanges of 37 sessions, 250 µs apart, in time order.
func events(n int) []schema.Exchange {
	evs := make([]schema.Exchange, n)
	for i := range evs {
		evs[i] = schema.Exchange{
			Time: base.Add(time.Duration(i) * 250 * time.Microsecond), Session: fmt.Sprintf("s-%d", i%37),
			Seq: int32(i / 37), Method: "GET", Scheme: "https", Host: "api.example.com",
			Path: fmt.Sprintf("/v1/item/%d", i), Status: schema.Int32(200), Protocol: schema.ProtoHTTP11, Source: "test",
		}
	}
	return evs
}

// produce writes evs to a through a kafkalog.Writer.
func produce(t testing.TB, a kafkalog.Addr, evs []schema.Exchange) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w, err := kafkalog.NewWriter(ctx, a, kafkalog.WriterConfig{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(evs...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readAll reads a's events in rng.
func readAll(t testing.TB, a kafkalog.Addr, rng eventlog.Range) ([]schema.Exchange, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := kafkalog.OpenReader(ctx, a, rng)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var got []schema.Exchange
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, *e)
	}
}

func TestReaderWindow(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	a := kafkatest.Topic(t, brokers, 5, "")
	evs := events(4000) // one second of events
	produce(t, a, evs)
	at := func(i int) time.Time { return evs[i].Time }
	tests := []struct {
		name     string
		rng      eventlog.Range
		from, to int // the events wanted: evs[from:to]
	}{
		{"everything", eventlog.Range{}, 0, len(evs)},                                                // zero range: the whole topic
		{"inside", eventlog.Range{From: at(1001), To: at(2999)}, 1001, 2999},                         // bounds on events
		{"sub-millisecond", eventlog.Range{From: at(1001).Add(-1), To: at(2999).Add(1)}, 1001, 3000}, // From 1 ns before an event, To 1 ns after one
		{"from only", eventlog.Range{From: at(3990)}, 3990, len(evs)},                                // open end
		{"to only", eventlog.Range{To: at(10)}, 0, 10},                                               // open start
		{"after the end", eventlog.Range{From: at(3999).Add(time.Second)}, 0, 0},                     // no record at or after From
		{"before the start", eventlog.Range{To: base}, 0, 0},                                         // To at the first event
	}
	for _, tt := range tests {
		got, err := readAll(t, a, tt.rng)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		want := evs[tt.from:tt.to]
		if len(got) != len(want) {
			t.Errorf("%s: read %d events; want %d", tt.name, len(got), len(want))
			continue
		}
		// In time order, and exactly the wanted events (times are distinct).
		for i := range got {
			if !got[i].Time.Equal(want[i].Time) || got[i].Path != want[i].Path {
				t.Errorf("%s: event %d = %s %s; want %s %s", tt.name, i, got[i].Time, got[i].Path, want[i].Time, want[i].Path)
				break
			}
		}
	}
}

func TestStat(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	a := kafkatest.Topic(t, brokers, 3, "")
	evs := events(1000)
	produce(t, a, evs)
	info, err := kafkalog.Stat(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if info.Events != 1000 || !info.First.Equal(evs[0].Time) || !info.Last.Equal(evs[999].Time) || len(info.Partitions) != 3 {
		t.Errorf("Stat = %d events, %s to %s, %d partitions; want 1000, %s to %s, 3",
			info.Events, info.First, info.Last, len(info.Partitions), evs[0].Time, evs[999].Time)
	}
	empty := kafkatest.Topic(t, brokers, 2, "")
	if info, err := kafkalog.Stat(context.Background(), empty); err != nil || info.Events != 0 || !info.First.IsZero() {
		t.Errorf("Stat(empty topic) = %+v, %v; want no events", info, err)
	}
}

// rawRecords writes messages as they are (one partition topics only).
func rawRecords(t *testing.T, a kafkalog.Addr, msgs ...kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(a.Brokers...), Transport: kafkalog.Transport(), Topic: a.Topic, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

func record(t *testing.T, e schema.Exchange, hs []kafka.Header) kafka.Message {
	t.Helper()
	v, err := kafkalog.Encode(nil, kafkalog.Binary, &e)
	if err != nil {
		t.Fatal(err)
	}
	return kafka.Message{Key: []byte(e.Session), Value: v, Headers: hs, Time: e.Time}
}

func TestReaderRefuses(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	evs := events(3)
	v2 := kafkalog.Headers(kafkalog.Binary, "test")
	v2[0].Value = []byte("2.0")
	var ve *schema.VersionError
	tests := []struct {
		name  string
		msgs  []kafka.Message
		is    func(error) bool
		where string // what the error names
	}{
		// The second event is earlier than the first in the same partition.
		{"disorder", []kafka.Message{record(t, evs[1], kafkalog.Headers(kafkalog.Binary, "")), record(t, evs[0], kafkalog.Headers(kafkalog.Binary, ""))},
			func(err error) bool { return errors.Is(err, kafkalog.ErrDisorder) }, "partition 0 offset 1"},
		// An unknown major schema version: refused, not guessed at.
		{"major 2", []kafka.Message{record(t, evs[0], kafkalog.Headers(kafkalog.Binary, "")), record(t, evs[1], v2)},
			func(err error) bool { return errors.As(err, &ve) }, "partition 0 offset 1"},
		// A value cut short.
		{"truncated", []kafka.Message{{Value: []byte{0x02, 0x05}, Headers: kafkalog.Headers(kafkalog.Binary, ""), Time: evs[0].Time}},
			func(err error) bool { return errors.Is(err, kafkalog.ErrTruncated) }, "partition 0 offset 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := kafkatest.Topic(t, brokers, 1, "")
			rawRecords(t, a, tt.msgs...)
			_, err := readAll(t, a, eventlog.Range{})
			if err == nil || !tt.is(err) || !strings.Contains(err.Error(), a.Topic) || !strings.Contains(err.Error(), tt.where) {
				t.Errorf("read = %v; want the documented error naming topic %s and %s", err, a.Topic, tt.where)
			}
		})
	}
	// Stat decodes the first and last records too.
	a := kafkatest.Topic(t, brokers, 1, "")
	rawRecords(t, a, record(t, evs[0], v2))
	if _, err := kafkalog.Stat(context.Background(), a); !errors.As(err, &ve) || !strings.Contains(err.Error(), "partition 0 offset 0") {
		t.Errorf("Stat of a version 2.0 record = %v; want a version error naming the offset", err)
	}
}

// TestJSONTopic: a topic written with format=json holds one JSON object per
// record that any consumer reads with a JSON decoder, and that Reader reads
// like a binary one.
func TestJSONTopic(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	a := kafkatest.Topic(t, brokers, 2, "format=json")
	evs := events(100)
	produce(t, a, evs)
	kr := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: a.Topic, Partition: 0, MaxWait: 50 * time.Millisecond})
	defer kr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := kr.ReadMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(m.Value, &raw); err != nil {
		t.Fatalf("record value is not JSON: %v\n%q", err, m.Value)
	}
	if p, _ := raw["path"].(string); !strings.HasPrefix(p, "/v1/item/") || raw["session"] != string(m.Key) {
		t.Errorf("JSON record %v with key %q; want an exchange of that session", raw, m.Key)
	}
	var ct string
	for _, h := range m.Headers {
		if h.Key == kafkalog.HeaderContentType {
			ct = string(h.Value)
		}
	}
	if ct != kafkalog.ContentJSON {
		t.Errorf("content-type header %q; want %q", ct, kafkalog.ContentJSON)
	}
	got, err := readAll(t, a, eventlog.Range{})
	if err != nil || len(got) != len(evs) || !got[99].Time.Equal(evs[99].Time) {
		t.Errorf("Reader on a JSON topic: %d events, %v; want %d", len(got), err, len(evs))
	}
}

func TestTail(t *testing.T) {
	brokers := kafkatest.Brokers(t)
	a := kafkatest.Topic(t, brokers, 3, "")
	evs := events(300)
	produce(t, a, evs[:200])
	tests := []struct {
		name  string
		cfg   kafkalog.TailConfig
		later bool // produce evs[200:] once the tail has started
		want  int  // events to receive, all at or after evs[from]
		from  int
	}{
		{"from the beginning", kafkalog.TailConfig{FromBeginning: true}, false, 200, 0}, // every event already there
		{"since", kafkalog.TailConfig{Since: evs[150].Time}, false, 50, 150},            // by time, to the nanosecond
		{"from the end", kafkalog.TailConfig{}, true, 100, 200},                         // only what is produced later
	}
	// A marker (not counted) tells the test that a tail from the end has
	// looked up every partition's start offset (Tail does so before it
	// reads a record), however long a loaded broker took.
	marker := evs[200]
	marker.Path = "/marker"
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		got := map[string]bool{}
		done := make(chan error, 1)
		started := make(chan struct{})
		var once sync.Once
		go func() {
			done <- kafkalog.Tail(ctx, a, tt.cfg, func(r *kafkalog.Record) error {
				if r.Exchange.Time.Before(evs[tt.from].Time) {
					return fmt.Errorf("event %s at %s is before the start", r.Exchange.Path, r.Exchange.Time)
				}
				if r.Exchange.Path == marker.Path {
					once.Do(func() { close(started) })
					return nil
				}
				got[r.Exchange.Path] = true
				if len(got) == tt.want {
					return kafkalog.ErrStop
				}
				return nil
			})
		}()
		if tt.later {
			for seen := false; !seen; {
				produce(t, a, []schema.Exchange{marker})
				select {
				case <-started:
					seen = true
				case <-time.After(100 * time.Millisecond):
				case <-ctx.Done():
					t.Fatalf("%s: the tail saw no marker in a minute", tt.name)
				}
			}
			produce(t, a, evs[200:])
		}
		err := <-done
		cancel()
		if err != nil || len(got) != tt.want {
			t.Errorf("%s: Tail = %v after %d events; want %d", tt.name, err, len(got), tt.want)
		}
	}
}
