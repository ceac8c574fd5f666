package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/schema"
)

// Info describes a topic holding a capture, from its offsets and the first
// and last record of each partition, without reading the rest.
type Info struct {
	Addr       Addr
	Partitions []PartitionInfo
	// Events is the sum over partitions of end − start offsets: the records
	// the topic holds now (one event each).
	Events int64
	// First and Last are the earliest first event and the latest last event
	// of the partitions (event time, nanoseconds); zero for an empty topic.
	First, Last time.Time
}

// PartitionInfo is one partition of an Info.
type PartitionInfo struct {
	ID int
	// Start is the first offset, End one past the last (the high watermark).
	Start, End int64
	// First and Last are the event times of the records at Start and End−1;
	// zero when the partition is empty.
	First, Last time.Time
}

// Stat returns a's topic's offsets and time range. It reads two records per
// non-empty partition (concurrently) and decodes them, so a record that
// does not decode is an error naming topic, partition and offset.
func Stat(ctx context.Context, a Addr) (Info, error) {
	ids, err := Partitions(ctx, a)
	if err != nil {
		return Info{}, err
	}
	start, end, err := offsets(ctx, a, ids, time.Time{})
	if err != nil {
		return Info{}, err
	}
	info := Info{Addr: a, Partitions: make([]PartitionInfo, len(ids))}
	errs := make([]error, len(ids))
	c := a.client()
	var wg sync.WaitGroup
	for i, id := range ids {
		p := &info.Partitions[i]
		*p = PartitionInfo{ID: id, Start: start[id], End: end[id]}
		info.Events += p.End - p.Start
		if p.Start >= p.End {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p.First, errs[i] = eventAt(ctx, c, a.Topic, id, p.Start); errs[i] == nil {
				p.Last, errs[i] = eventAt(ctx, c, a.Topic, id, p.End-1)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Info{}, err
	}
	for _, p := range info.Partitions {
		if p.Start >= p.End {
			continue
		}
		if info.First.IsZero() || p.First.Before(info.First) {
			info.First = p.First
		}
		if p.Last.After(info.Last) {
			info.Last = p.Last
		}
	}
	return info, nil
}

// eventAt fetches and decodes the record at offset off of a partition and
// returns its event time.
func eventAt(ctx context.Context, c *kafka.Client, topic string, part int, off int64) (time.Time, error) {
	where := fmt.Sprintf("kafka topic %s partition %d offset %d", topic, part, off)
	res, err := c.Fetch(ctx, &kafka.FetchRequest{
		Topic: topic, Partition: part, Offset: off,
		MinBytes: 1, MaxBytes: fetchMaxBytes, MaxWait: fetchMaxWait,
	})
	if err == nil {
		err = res.Error
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: fetch: %w", where, err)
	}
	// The broker answers with whole record batches: skip the records of the
	// batch that come before off.
	for {
		rec, err := res.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			return time.Time{}, fmt.Errorf("%s: no record there (deleted, or not a record such as a transaction marker)", where)
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: fetch: %w", where, err)
		}
		if rec.Offset < off {
			continue
		}
		value, err := readBytes(rec.Value)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: value: %w", where, err)
		}
		var e schema.Exchange
		if err := Decode(rec.Headers, value, &e); err != nil {
			return time.Time{}, fmt.Errorf("%s: decode: %w", where, err)
		}
		return e.Time, nil
	}
}

// readBytes reads a record's key or value (nil for none).
func readBytes(b kafka.Bytes) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	defer b.Close()
	return io.ReadAll(b)
}
