package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/schema"
)

// tailMaxWait is how long a tailing fetch waits for new records: short, so
// a new event shows promptly.
const tailMaxWait = 250 * time.Millisecond

// TailConfig says where a Tail starts. The zero value starts at the end:
// only events produced after Tail looks the offsets up.
type TailConfig struct {
	// FromBeginning starts at each partition's first offset.
	FromBeginning bool
	// Since, when not zero, starts at each partition's first event at or
	// after it (looked up by record timestamp, then to the nanosecond).
	Since time.Time
}

// Record is one event a Tail read and where it was.
type Record struct {
	Partition int
	Offset    int64
	Exchange  schema.Exchange
}

// ErrStop is what a Tail callback returns to end the Tail without an error.
var ErrStop = errors.New("kafkalog: stop tail")

// Tail follows every partition of a's topic from cfg's start and calls fn
// with each decoded event, from one goroutine, in offset order within a
// partition (so in order within a session) but not in time order across
// partitions. It returns nil when ctx is done or fn returns ErrStop, fn's
// other errors as they are, and an error naming topic, partition and offset
// for a record that does not decode. The Record is valid during the call.
func Tail(ctx context.Context, a Addr, cfg TailConfig, fn func(*Record) error) error {
	ids, err := Partitions(ctx, a)
	if err != nil {
		return err
	}
	start, end, err := offsets(ctx, a, ids, cfg.Since)
	if err != nil {
		return err
	}
	if !cfg.FromBeginning && cfg.Since.IsZero() {
		start = end
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type msg struct {
		part int
		m    kafka.Message
		err  error
	}
	ch := make(chan msg, 256)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // runs before wg.Wait
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kr := kafka.NewReader(kafka.ReaderConfig{
				Brokers: a.Brokers, Topic: a.Topic, Partition: id,
				MinBytes: 1, MaxBytes: fetchMaxBytes, MaxWait: tailMaxWait,
			})
			defer kr.Close()
			err := kr.SetOffset(start[id])
			for err == nil {
				var m kafka.Message
				if m, err = kr.FetchMessage(ctx); err == nil {
					select {
					case ch <- msg{part: id, m: m}:
					case <-ctx.Done():
						return
					}
				}
			}
			if ctx.Err() == nil {
				select {
				case ch <- msg{part: id, err: fmt.Errorf("kafka topic %s partition %d: read: %w", a.Topic, id, err)}:
				case <-ctx.Done():
				}
			}
		}()
	}
	var rec Record
	for {
		var x msg
		select {
		case <-ctx.Done():
			return nil
		case x = <-ch:
		}
		if x.err != nil {
			return x.err
		}
		rec.Partition, rec.Offset = x.part, x.m.Offset
		if err := Decode(x.m.Headers, x.m.Value, &rec.Exchange); err != nil {
			return fmt.Errorf("kafka topic %s partition %d offset %d: decode: %w", a.Topic, x.part, x.m.Offset, err)
		}
		if rec.Exchange.Time.Before(cfg.Since) {
			continue // in Since's millisecond, before it
		}
		if err := fn(&rec); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
}
