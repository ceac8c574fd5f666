package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/surge-replay/surge/capture/tapout"
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// This file ties the kafka:// address form into import, replay and
// inspect; kafka.go holds the kafka commands.

// kafkaCapture returns the topic among captures, false when they are all
// paths. A topic is replayed alone.
func kafkaCapture(captures []string) (kafkalog.Addr, bool, error) {
	for _, c := range captures {
		if !kafkalog.IsAddr(c) {
			continue
		}
		if len(captures) > 1 {
			return kafkalog.Addr{}, true, fmt.Errorf("capture %s: a kafka:// capture is read alone, not with other captures", c)
		}
		a, err := kafkalog.ParseAddr(c)
		return a, true, err
	}
	return kafkalog.Addr{}, false, nil
}

// createExchangeSink returns the import's output: a topic for a kafka://
// address (created when missing), else a Parquet file or hive directory.
func createExchangeSink(ctx context.Context, output string, cfg eventlog.WriterConfig) (eventlog.Sink[schema.Exchange], error) {
	if !kafkalog.IsAddr(output) {
		return eventlog.CreateSink[schema.Exchange](output, cfg)
	}
	a, err := kafkalog.ParseAddr(output)
	if err != nil {
		return nil, err
	}
	return kafkalog.NewWriter(ctx, a, kafkalog.WriterConfig{Source: cfg.Source, Create: true})
}

// kafkaWindow returns the time range of the capture in a's topic.
func kafkaWindow(ctx context.Context, a kafkalog.Addr) (first, last time.Time, err error) {
	info, err := kafkalog.Stat(ctx, a)
	if err != nil {
		return first, last, err
	}
	if info.Events == 0 {
		return first, last, fmt.Errorf("%s: no events", a)
	}
	first, err = firstRequest(ctx, a, info.First)
	return first, info.Last, err
}

// maxLongLivedLead bounds the events firstRequest reads.
const maxLongLivedLead = 10000

// firstRequest returns the time of the topic's first event that is not a
// long-lived connection (schema.Exchange.LongLived), as captureRange does
// for files: a WebSocket opened hours before the requests must not start
// the default window. It reads the topic from its start, at most
// maxLongLivedLead events; first is the answer when they are all such
// connections.
func firstRequest(ctx context.Context, a kafkalog.Addr, first time.Time) (time.Time, error) {
	r, err := kafkalog.OpenReader(ctx, a, eventlog.Range{})
	if err != nil {
		return first, err
	}
	defer r.Close()
	for range maxLongLivedLead {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return first, err
		}
		if !e.LongLived() {
			return e.Time, nil
		}
	}
	return first, nil
}

// openKafkaCapture returns an Opener over the events of a's topic in rng,
// for the shaper: each pass looks the offsets up again.
func openKafkaCapture(ctx context.Context, a kafkalog.Addr, rng eventlog.Range) shaper.Opener {
	return func() (shaper.Source, error) {
		r, err := kafkalog.OpenReader(ctx, a, rng)
		if err != nil {
			return nil, err
		}
		return func() (*schema.Exchange, error) {
			e, err := r.Next() // not reused by the Reader: the shaper may keep it
			if err != nil {
				r.Close()
			}
			return e, err
		}, nil
	}
}

// kafkaTimes calls add with the time of every event of a's topic in rng.
func kafkaTimes(ctx context.Context, a kafkalog.Addr, rng eventlog.Range, add func(time.Time)) error {
	r, err := kafkalog.OpenReader(ctx, a, rng)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		add(e.Time)
	}
}

// kafkaSummary is what surge inspect prints of a topic: its offsets and time
// range (it reads two records per partition, not the whole topic).
type kafkaSummary struct {
	Address    string           `json:"address"`
	Topic      string           `json:"topic"`
	Events     int64            `json:"events"`
	First      *time.Time       `json:"first,omitempty"`
	Last       *time.Time       `json:"last,omitempty"`
	DurationS  float64          `json:"duration_s"`
	Partitions []kafkaPartition `json:"partitions"`
	// CaptureLoss is what surge capture proxy recorded and lost into the
	// topic (its TOPIC-meta reports), when it wrote them.
	CaptureLoss json.RawMessage `json:"capture_loss,omitempty"`
}

type kafkaPartition struct {
	ID     int        `json:"id"`
	Start  int64      `json:"start"`
	End    int64      `json:"end"`
	Events int64      `json:"events"`
	First  *time.Time `json:"first,omitempty"`
	Last   *time.Time `json:"last,omitempty"`
}

func summarizeKafka(ctx context.Context, address string) (*kafkaSummary, error) {
	a, err := kafkalog.ParseAddr(address)
	if err != nil {
		return nil, err
	}
	info, err := kafkalog.Stat(ctx, a)
	if err != nil {
		return nil, err
	}
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	s := &kafkaSummary{Address: address, Topic: a.Topic, Events: info.Events, First: opt(info.First), Last: opt(info.Last)}
	if s.First != nil {
		s.DurationS = info.Last.Sub(info.First).Seconds()
	}
	for _, p := range info.Partitions {
		s.Partitions = append(s.Partitions, kafkaPartition{ID: p.ID, Start: p.Start, End: p.End, Events: p.End - p.Start, First: opt(p.First), Last: opt(p.Last)})
	}
	if loss, ok, err := tapout.ReadLoss(ctx, a); err != nil {
		return nil, err
	} else if ok {
		s.CaptureLoss, _ = json.Marshal(loss)
	}
	return s, nil
}

func (s *kafkaSummary) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

func (s *kafkaSummary) writeText(w io.Writer) error {
	ts := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	fmt.Fprintf(w, "%s\n  events      %d in %d partitions\n", s.Address, s.Events, len(s.Partitions))
	if s.First != nil {
		fmt.Fprintf(w, "  first       %s\n  last        %s\n  duration    %s\n", ts(s.First), ts(s.Last),
			time.Duration(s.DurationS*float64(time.Second)).Round(time.Millisecond))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  partition\tstart\tend\tevents\tfirst\tlast\t")
	for _, p := range s.Partitions {
		fmt.Fprintf(tw, "  %d\t%d\t%d\t%d\t%s\t%s\t\n", p.ID, p.Start, p.End, p.Events, ts(p.First), ts(p.Last))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.CaptureLoss != nil {
		report.WriteCaptureLoss(w, s.CaptureLoss)
	}
	return nil
}
