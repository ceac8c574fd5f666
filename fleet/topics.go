package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/eventlog/kafkalog"
)

// requestTimeout bounds each admin request.
const requestTimeout = 15 * time.Second

// Topics names a fleet's cluster and its control and results topics. The
// zero Control and Results mean DefaultControlTopic and DefaultResultsTopic.
type Topics struct {
	Brokers []string
	Control string
	Results string
}

func (t Topics) control() string {
	if t.Control == "" {
		return DefaultControlTopic
	}
	return t.Control
}

func (t Topics) results() string {
	if t.Results == "" {
		return DefaultResultsTopic
	}
	return t.Results
}

func (t Topics) client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(t.Brokers...), Timeout: requestTimeout, Transport: kafkalog.Transport()}
}

// Ensure creates the control topic (one partition: one total order of
// events) and the results topic (one partition, broker-stamped record times
// for the agents' clock offsets) when they do not exist, with the
// brokers' default replication factor (default.replication.factor: 3 on a
// cluster that must survive the loss of a broker, as scripts/kafka.sh
// --brokers 3 sets it).
func (t Topics) Ensure(ctx context.Context) error {
	logAppend := []kafka.ConfigEntry{{ConfigName: "message.timestamp.type", ConfigValue: "LogAppendTime"}}
	res, err := t.client().CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: t.control(), NumPartitions: 1, ReplicationFactor: -1},
		{Topic: t.results(), NumPartitions: 1, ReplicationFactor: -1, ConfigEntries: logAppend},
	}})
	if err != nil {
		return fmt.Errorf("fleet: create topics %s, %s: %w", t.control(), t.results(), err)
	}
	for name, err := range res.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("fleet: create topic %s: %w", name, err)
		}
	}
	// Creation is asynchronous: wait until both have a leader.
	deadline := time.Now().Add(requestTimeout)
	for {
		md, err := t.client().Metadata(ctx, &kafka.MetadataRequest{Topics: []string{t.control(), t.results()}})
		ready := err == nil && len(md.Topics) == 2
		for _, tp := range md.Topics {
			ready = ready && tp.Error == nil && len(tp.Partitions) > 0 && tp.Partitions[0].Leader.Host != ""
		}
		if ready {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("fleet: topics %s, %s not ready after %s: %v", t.control(), t.results(), requestTimeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writer returns a synchronous writer to topic: acks=all, no batching wait.
func (t Topics) writer(topic string) *kafka.Writer {
	return &kafka.Writer{
		Addr: kafka.TCP(t.Brokers...), Transport: kafkalog.Transport(), Topic: topic, RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond, MaxAttempts: 10, WriteTimeout: 10 * time.Second,
	}
}

// Publish writes control events to the control topic (keyed by run) and
// waits until the brokers have them.
func (t Topics) Publish(ctx context.Context, events ...Event) error {
	w := t.writer(t.control())
	defer w.Close()
	msgs := make([]kafka.Message, len(events))
	for i := range events {
		v, err := json.Marshal(&events[i])
		if err != nil {
			return err
		}
		msgs[i] = kafka.Message{Key: []byte(events[i].Run), Value: v, Headers: headers(KindControl)}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("fleet: publish to %s: %w", t.control(), err)
	}
	return nil
}

// reader returns a reader of partition 0 of topic from its first offset,
// answering within 50 ms of a new record.
func (t Topics) reader(topic string) *kafka.Reader {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: t.Brokers, Topic: topic, Partition: 0,
		MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 50 * time.Millisecond,
	})
	r.SetOffset(kafka.FirstOffset)
	return r
}

// end returns the high watermark of partition 0 of topic: one past its last
// record.
func (t Topics) end(ctx context.Context, topic string) (int64, error) {
	// A topic just created may not have its leader known to every broker
	// yet: ask again for a while.
	deadline := time.Now().Add(requestTimeout)
	for {
		off, err := t.endOnce(ctx, topic)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return off, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (t Topics) endOnce(ctx context.Context, topic string) (int64, error) {
	res, err := t.client().ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(0)}}})
	if err != nil {
		return 0, fmt.Errorf("fleet: list offsets of %s: %w", topic, err)
	}
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return 0, fmt.Errorf("fleet: list offsets of %s: %w", topic, po.Error)
		}
		return po.LastOffset, nil
	}
	return 0, fmt.Errorf("fleet: list offsets of %s: no partition 0", topic)
}

// ControlRecord is a control event as read from the topic, with the
// broker's record time.
type ControlRecord struct {
	Event
	Offset int64
	Time   time.Time // record timestamp
	Err    error     // the record did not decode; Event is zero
}

// Watch reads the control topic from its beginning and sends every record
// on the returned channel until ctx ends; then it closes the channel.
// Records that do not decode are sent with Err set. caughtUp is closed once
// every record present at the call has been sent.
func (t Topics) Watch(ctx context.Context) (records <-chan ControlRecord, caughtUp <-chan struct{}, err error) {
	end, err := t.end(ctx, t.control())
	if err != nil {
		return nil, nil, err
	}
	out := make(chan ControlRecord, 64)
	up := make(chan struct{})
	if end == 0 {
		close(up)
	}
	r := t.reader(t.control())
	go func() {
		defer close(out)
		defer r.Close()
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				return // ctx ended (the reader retries the broker itself)
			}
			rec := ControlRecord{Offset: m.Offset, Time: m.Time}
			rec.Err = decode(m, KindControl, &rec.Event)
			select {
			case out <- rec:
			case <-ctx.Done():
				return
			}
			if m.Offset == end-1 {
				close(up)
			}
		}
	}()
	return out, up, nil
}

// Events reads every control event of run present on the control topic now.
func (t Topics) Events(ctx context.Context, run string) ([]Event, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	recs, up, err := t.Watch(ctx)
	if err != nil {
		return nil, err
	}
	var out []Event
	for {
		select {
		case rec, ok := <-recs:
			if !ok {
				return out, ctx.Err()
			}
			if rec.Err == nil && rec.Run == run {
				out = append(out, rec.Event)
			}
			continue
		case <-up:
		}
		// Drain what is already buffered, then stop.
		for {
			select {
			case rec := <-recs:
				if rec.Err == nil && rec.Run == run {
					out = append(out, rec.Event)
				}
			default:
				return out, nil
			}
		}
	}
}
