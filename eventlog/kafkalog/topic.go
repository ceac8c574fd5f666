package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/segmentio/kafka-go"
)

// requestTimeout bounds each admin request (metadata, create, list offsets).
const requestTimeout = 15 * time.Second

func (a Addr) client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(a.Brokers...), Timeout: requestTimeout, Transport: transport}
}

// Partitions returns the partition ids of a's topic in order, or an error
// wrapping kafka.UnknownTopicOrPartition when the topic does not exist.
func Partitions(ctx context.Context, a Addr) ([]int, error) {
	md, err := a.client().Metadata(ctx, &kafka.MetadataRequest{Topics: []string{a.Topic}})
	if err != nil {
		return nil, fmt.Errorf("kafka %s: metadata: %w", a, err)
	}
	for _, t := range md.Topics {
		if t.Name != a.Topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("kafka %s: topic %s: %w", a, a.Topic, t.Error)
		}
		ids := make([]int, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			ids = append(ids, p.ID)
		}
		sort.Ints(ids)
		return ids, nil
	}
	return nil, fmt.Errorf("kafka %s: topic %s: %w", a, a.Topic, kafka.UnknownTopicOrPartition)
}

// EnsureTopic creates a's topic with a's partitions and replicas, and no
// time retention (retention.ms=-1: records stamped with old event times
// would otherwise be deleted), when it does not exist, and waits until its
// metadata lists every partition. An existing topic is left as it is.
func EnsureTopic(ctx context.Context, a Addr) error {
	if _, err := Partitions(ctx, a); err == nil {
		return nil
	} else if !errors.Is(err, kafka.UnknownTopicOrPartition) {
		return err
	}
	res, err := a.client().CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: a.Topic, NumPartitions: a.partitions(), ReplicationFactor: a.replicas(),
		// Records carry their event's time, which for an imported capture
		// is days or months old: under the broker's time retention
		// (log.retention.hours, 168 by default) such segments are deleted
		// at the next check. A capture is an immutable log: kept until
		// the topic is deleted.
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: "-1"}},
	}}})
	if err != nil {
		return fmt.Errorf("kafka %s: create topic: %w", a, err)
	}
	if err := res.Errors[a.Topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("kafka %s: create topic: %w", a, err)
	}
	// Creation is asynchronous: wait for every partition to have a leader.
	deadline := time.Now().Add(requestTimeout)
	for {
		ids, err := Partitions(ctx, a)
		if err == nil && len(ids) > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kafka %s: topic created but not ready after %s: %v", a, requestTimeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// DeleteTopic deletes a's topic (tests clean up with it).
func DeleteTopic(ctx context.Context, a Addr) error {
	res, err := a.client().DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{a.Topic}})
	if err != nil {
		return fmt.Errorf("kafka %s: delete topic: %w", a, err)
	}
	if err := res.Errors[a.Topic]; err != nil {
		return fmt.Errorf("kafka %s: delete topic: %w", a, err)
	}
	return nil
}

// offsets returns, per partition, the first offset whose record timestamp is
// at or after t (zero t: the log start) and the end offset (the high
// watermark: one past the last record), read now.
func offsets(ctx context.Context, a Addr, parts []int, t time.Time) (start, end map[int]int64, err error) {
	c := a.client()
	ask := func(req func(int) kafka.OffsetRequest) (map[int]kafka.PartitionOffsets, error) {
		rs := make([]kafka.OffsetRequest, len(parts))
		for i, p := range parts {
			rs[i] = req(p)
		}
		// A topic just created may have partitions whose leader is not
		// ready yet (NotLeaderForPartition, LeaderNotAvailable).
		var m map[int]kafka.PartitionOffsets
		err := retryTemporary(ctx, func() (err error) {
			m, err = listOffsets(ctx, c, a, rs)
			return err
		})
		return m, err
	}
	last, err := ask(kafka.LastOffsetOf)
	if err != nil {
		return nil, nil, err
	}
	end = map[int]int64{}
	for _, p := range parts {
		end[p] = last[p].LastOffset
	}
	if t.IsZero() {
		first, err := ask(kafka.FirstOffsetOf)
		if err != nil {
			return nil, nil, err
		}
		start = map[int]int64{}
		for _, p := range parts {
			start[p] = first[p].FirstOffset
		}
		return start, end, nil
	}
	at, err := ask(func(p int) kafka.OffsetRequest { return kafka.TimeOffsetOf(p, t) })
	if err != nil {
		return nil, nil, err
	}
	start = map[int]int64{}
	for _, p := range parts {
		// No record at or after t: the broker answers offset -1, which
		// kafka-go files under LastOffset; nothing to read then.
		start[p] = end[p]
		for off := range at[p].Offsets {
			if off >= 0 {
				start[p] = off
			}
		}
	}
	return start, end, nil
}

// listOffsets sends one ListOffsets request for a's topic.
func listOffsets(ctx context.Context, c *kafka.Client, a Addr, rs []kafka.OffsetRequest) (map[int]kafka.PartitionOffsets, error) {
	res, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{a.Topic: rs}})
	if err != nil {
		return nil, fmt.Errorf("kafka %s: list offsets: %w", a, err)
	}
	m := map[int]kafka.PartitionOffsets{}
	for _, po := range res.Topics[a.Topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("kafka %s: list offsets of partition %d: %w", a, po.Partition, po.Error)
		}
		m[po.Partition] = po
	}
	return m, nil
}

// retryTemporary calls fn until it returns nil or an error that is not a
// temporary Kafka error (kafka.Error.Temporary), for up to requestTimeout,
// 100 ms apart. A broker just started or a topic just created answers with
// such errors for a while: no leader yet (LeaderNotAvailable,
// NotLeaderForPartition), no group coordinator yet
// (GroupCoordinatorNotAvailable, NotCoordinatorForGroup).
func retryTemporary(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(requestTimeout)
	for {
		err := fn()
		var ke kafka.Error
		if err == nil || !errors.As(err, &ke) || !ke.Temporary() || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
