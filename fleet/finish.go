package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/eventlog/kafkalog"
)

// overrun bounds how long after its schedule's end (plus settle) a run
// waits for partitions that no agent has finished: a broker or an agent
// that was down past the schedule's end leaves requests that are sent late
// (or skipped, per the run's late rule) once a member owns them again.
// Past overrun they are given up and reported as unfinished.
const overrun = 2 * time.Minute

// Overrun is how long agents may stay past a run's schedule end (plus
// settle) to finish partitions left by a broker or agent outage; a caller
// waiting for a run's final reports gives them at least that long.
const Overrun = overrun

// unfinished returns, over every partition of the capture topic, the
// records of the window [from, to) that the run's group has not committed
// past: requests that no agent has handled yet. A partition is finished
// when its committed offset reaches the window's end in it, or when the
// window holds no record of it. The count is 0 and parts empty when the
// whole run is handled. Errors are the brokers' (a broker still down).
func unfinished(ctx context.Context, addr kafkalog.Addr, group string, from, to time.Time) (left int64, parts []int, err error) {
	ids, err := kafkalog.Partitions(ctx, addr)
	if err != nil {
		return 0, nil, err
	}
	c := &kafka.Client{Addr: kafka.TCP(addr.Brokers...), Timeout: requestTimeout, Transport: kafkalog.Transport()}
	res, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{addr.Topic: ids}})
	if err == nil {
		err = res.Error
	}
	if err != nil {
		return 0, nil, fmt.Errorf("group %s: fetch committed offsets of %s: %w", group, addr.Topic, err)
	}
	committed := map[int]int64{}
	for _, p := range res.Topics[addr.Topic] {
		if p.Error == nil {
			committed[p.Partition] = p.CommittedOffset
		}
	}
	as := make([]kafka.PartitionAssignment, len(ids))
	for i, id := range ids {
		off, ok := committed[id]
		if !ok {
			off = -1
		}
		as[i] = kafka.PartitionAssignment{ID: id, Offset: off}
	}
	sp, err := spans(ctx, addr, as, from, to)
	if err != nil {
		return 0, nil, err
	}
	for _, s := range sp {
		if s.start < s.end {
			left += s.end - s.start
			parts = append(parts, s.partition)
		}
	}
	return left, parts, nil
}
