package fleet

import (
	"context"
	"sort"
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
	// Committed offsets (-1 where none) of every partition, with the
	// temporary errors of brokers coming back retried.
	committed, _, err := kafkalog.GroupOffsets(ctx, addr, group)
	if err != nil {
		return 0, nil, err
	}
	as := make([]kafka.PartitionAssignment, 0, len(committed))
	for id, off := range committed {
		as = append(as, kafka.PartitionAssignment{ID: id, Offset: off})
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
	sort.Ints(parts)
	return left, parts, nil
}
