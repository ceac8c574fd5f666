package fleet

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/eventlog/kafkalog"
)

// Takeovers. A generation resumes each partition from the group's committed
// offset, and the commit lags what was sent (by the clone spread and the
// commit interval), so a new owner re-reads events whose requests an earlier
// owner already sent: duplicates. Requests whose time passed while nobody
// owned the partition (a dead agent's session timeout) are late.
//
// To count duplicates, every commit carries a mark in its metadata: the wall
// time through which the partition's requests have been sent (the latest
// request handed to the engine, or now when that is later, and never below
// the mark it resumed from). A new owner re-sends a request at or before the
// mark as a duplicate it knows of. A dead owner may have sent up to
// commitEvery more after its last commit: those duplicates are not counted,
// so the count is a lower bound, short by at most commitEvery of the
// partition's traffic per death. A clean leave commits at its end: exact.

// commitEvery is how often an agent commits its offsets and marks.
const commitEvery = 500 * time.Millisecond

// markPrefix starts the metadata of a fleet commit.
const markPrefix = "surge-sent="

// formatMark is the commit metadata of mark m by agent.
func formatMark(m time.Time, agent string) string {
	if m.IsZero() {
		return "agent=" + agent
	}
	return markPrefix + m.UTC().Format(time.RFC3339Nano) + " agent=" + agent
}

// parseMark returns the mark of commit metadata; zero when it has none (no
// commit yet, or a commit by another program).
func parseMark(meta string) time.Time {
	rest, ok := strings.CutPrefix(meta, markPrefix)
	if !ok {
		return time.Time{}
	}
	ts, _, _ := strings.Cut(rest, " ")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}
	}
	return t
}

// fetchMarks returns the mark committed for each partition of parts in
// group (zero time where there is none).
func fetchMarks(ctx context.Context, brokers []string, group, topic string, parts []kafka.PartitionAssignment) (map[int]time.Time, error) {
	ids := make([]int, len(parts))
	for i, p := range parts {
		ids[i] = p.ID
	}
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: requestTimeout, Transport: kafkalog.Transport()}
	res, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ids}})
	if err == nil {
		err = res.Error
	}
	if err != nil {
		return nil, fmt.Errorf("group %s: fetch committed offsets of %s: %w", group, topic, err)
	}
	out := map[int]time.Time{}
	for _, p := range res.Topics[topic] {
		if p.Error == nil {
			out[p.Partition] = parseMark(p.Metadata)
		}
	}
	return out, nil
}

// commitMarks commits offs (partition → next offset) in gen's name with
// each partition's mark.
func commitMarks(ctx context.Context, brokers []string, gen *kafka.Generation, topic, agent string, offs map[int]int64, marks map[int]time.Time) error {
	if len(offs) == 0 {
		return nil
	}
	oc := make([]kafka.OffsetCommit, 0, len(offs))
	for p, o := range offs {
		oc = append(oc, kafka.OffsetCommit{Partition: p, Offset: o, Metadata: formatMark(marks[p], agent)})
	}
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: requestTimeout, Transport: kafkalog.Transport()}
	res, err := c.OffsetCommit(ctx, &kafka.OffsetCommitRequest{
		GroupID: gen.GroupID, GenerationID: int(gen.ID), MemberID: gen.MemberID,
		Topics: map[string][]kafka.OffsetCommit{topic: oc},
	})
	if err != nil {
		return err
	}
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return fmt.Errorf("partition %d: %w", p.Partition, p.Error)
		}
	}
	return nil
}

// handoff is what becomes of a request when the schedule hands it on.
type handoff int

const (
	onTime   handoff = iota // sent (at most grace late)
	sentLate                // past its time by more than grace, sent (LateSend)
	skipped                 // past its time by more than grace, not sent (LateSkip)
)

// classify decides request at wall time w, handed on at now, from a
// partition whose committed mark is mark: dup says an earlier owner already
// sent it (w at or before the mark); h what to do with it given the grace
// and the late policy (LateSkip or LateSend).
func classify(w, now, mark time.Time, grace time.Duration, late string) (dup bool, h handoff) {
	dup = !mark.IsZero() && !w.After(mark)
	if now.Sub(w) <= grace {
		return dup, onTime
	}
	if late == LateSend {
		return dup, sentLate
	}
	return dup, skipped
}

// takeoverCounts are an agent's running totals for one run. Safe for
// concurrent use.
type takeoverCounts struct {
	duplicates, lateSent, skipped atomic.Int64
}

func (c *takeoverCounts) count(dup bool, h handoff) {
	// A skipped request is not re-sent, so it is no duplicate.
	if dup && h != skipped {
		c.duplicates.Add(1)
	}
	switch h {
	case sentLate:
		c.lateSent.Add(1)
	case skipped:
		c.skipped.Add(1)
	}
}

// origins maps the exchanges a generation's schedule has read to their
// partition, until every clone of each has been handed on. Safe for
// concurrent use.
type origins struct {
	mu     sync.Mutex
	spread time.Duration
	part   map[any]int
	fifo   []origin
}

type origin struct {
	key any
	at  time.Duration
}

func newOrigins(spread time.Duration) *origins {
	return &origins{spread: spread, part: map[any]int{}}
}

// add notes that key (an exchange) at un-jittered offset at came from
// partition p.
func (o *origins) add(key any, p int, at time.Duration) {
	o.mu.Lock()
	o.part[key] = p
	o.fifo = append(o.fifo, origin{key, at})
	o.mu.Unlock()
}

// of returns key's partition for a request handed on at offset at, and
// forgets exchanges whose clones are all due before at (a clone is due at
// most spread after its exchange, and requests are handed on in order).
func (o *origins) of(key any, at time.Duration) (int, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.part[key]
	i := 0
	for ; i < len(o.fifo) && o.fifo[i].at+o.spread+time.Second < at; i++ {
		delete(o.part, o.fifo[i].key)
	}
	if i > 0 {
		o.fifo = append(o.fifo[:0], o.fifo[i:]...)
	}
	return p, ok
}

// report copies the totals into an agent report.
func (c *takeoverCounts) report(r *AgentReport) {
	r.Duplicates, r.LateSent, r.Skipped = c.duplicates.Load(), c.lateSent.Load(), c.skipped.Load()
}
