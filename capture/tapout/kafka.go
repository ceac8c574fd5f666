package tapout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"

	"github.com/surge-replay/surge/capture"
	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/schema"
)

// FramesTopicSuffix names the topic of a capture's WebSocket frames: the
// exchanges' topic plus this suffix. Frames are JSON records (the json tags
// of schema.Frame) with surge-kind "frame", keyed by session.
const FramesTopicSuffix = "-frames"

// MetaTopicSuffix names the topic of a capture's loss reports: the
// exchanges' topic plus this suffix, one partition. Each run of the proxy
// produces its cumulative schema.MetaCaptureLoss JSON (capture.TapLoss)
// under the key "capture_loss/RUN" whenever it changed, at a flush; the
// latest record of each run, summed, is the topic's capture loss (ReadLoss).
// A run reports when its drops change, every MetaInterval otherwise, and at
// Close.
const MetaTopicSuffix = "-meta"

// MetaInterval is how often a run reports its loss when nothing was
// dropped since its last report.
const MetaInterval = 30 * time.Second

// DefaultMaxBatch bounds the records a Kafka output holds between flushes.
const DefaultMaxBatch = 100_000

// Errors of the Kafka output.
var (
	errBatchFull = errors.New("tapout: kafka batch full (the broker is slower than the traffic)")
	errLate      = errors.New("tapout: event older than one already produced (a partition must stay in time order)")
)

// KafkaConfig configures a Kafka output. The zero value works.
type KafkaConfig struct {
	// Timeout bounds one flush (connecting, creating topics, producing).
	// Zero means 5 seconds.
	Timeout time.Duration
	// MaxBatch bounds the records held between flushes; beyond it events
	// are refused. Zero means DefaultMaxBatch.
	MaxBatch int
	// Retry is how long events are refused after a failure; zero means
	// DefaultRetry.
	Retry time.Duration
}

// Kafka produces exchanges to a topic in kafkalog's encoding (keyed by
// session, stamped with the event time, acks=all) and frames to the topic
// named with FramesTopicSuffix. Records are batched and produced at each
// Flush. It connects lazily: a broker that is down at start or later costs
// the events of the failed flushes, counted, and nothing else. Events later
// than one already produced are refused (a kafkalog reader refuses a
// partition out of time order); the tap's re-order window makes them rare.
type Kafka struct {
	addr, frAddr kafkalog.Addr
	metaAddr     kafkalog.Addr
	meta         *kafka.Writer
	run          string // this run's key in the meta topic
	lastLoss     string // the loss JSON last produced...
	lastDropped  int64
	lastMeta     time.Time // ...and when
	cfg          KafkaConfig
	ex, fr       *kafka.Writer
	exHeaders    []kafka.Header
	frHeaders    []kafka.Header
	exBatch      []kafka.Message
	frBatch      []kafka.Message
	exMax, frMax time.Time // latest event time batched
	ready        bool      // topics exist
	failUntil    time.Time
}

// NewKafka returns a Kafka output for addr. It does not connect.
func NewKafka(addr kafkalog.Addr, cfg KafkaConfig) *Kafka {
	fr := addr
	fr.Topic += FramesTopicSuffix
	fr.Format = kafkalog.JSON
	meta := addr
	meta.Topic += MetaTopicSuffix
	meta.Partitions = 1
	writer := func(a kafkalog.Addr) *kafka.Writer {
		return &kafka.Writer{
			Addr: kafka.TCP(a.Brokers...), Topic: a.Topic,
			Balancer:     kafka.Murmur2Balancer{},
			RequiredAcks: kafka.RequireAll,
			BatchSize:    5000, BatchBytes: 8 << 20, BatchTimeout: 5 * time.Millisecond,
			Compression: compress.Zstd, MaxAttempts: 2,
			WriteTimeout: cfg.timeout(), ReadTimeout: cfg.timeout(),
		}
	}
	frHeaders := []kafka.Header{
		{Key: kafkalog.HeaderVersion, Value: []byte(schema.Version)},
		{Key: kafkalog.HeaderContentType, Value: []byte(kafkalog.ContentJSON)},
		{Key: kafkalog.HeaderKind, Value: []byte(schema.KindFrame)},
		{Key: kafkalog.HeaderSource, Value: []byte(capture.TapSource)},
	}
	var id [8]byte
	rand.Read(id[:])
	return &Kafka{
		addr: addr, frAddr: fr, metaAddr: meta, meta: writer(meta), run: "capture_loss/" + hex.EncodeToString(id[:]),
		cfg: cfg, ex: writer(addr), fr: writer(fr),
		exHeaders: kafkalog.Headers(addr.Format, capture.TapSource), frHeaders: frHeaders,
	}
}

func (c *KafkaConfig) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 5 * time.Second
	}
	return c.Timeout
}

func (k *Kafka) refuse(t, latest time.Time, n int) error {
	switch {
	case time.Now().Before(k.failUntil):
		return errBackingOff
	case n >= k.maxBatch():
		return errBatchFull
	case t.Before(latest):
		return errLate
	}
	return nil
}

func (k *Kafka) maxBatch() int {
	if k.cfg.MaxBatch <= 0 {
		return DefaultMaxBatch
	}
	return k.cfg.MaxBatch
}

// AddExchange is part of capture.TapOutput.
func (k *Kafka) AddExchange(e *schema.Exchange) error {
	if err := k.refuse(e.Time, k.exMax, len(k.exBatch)); err != nil {
		return err
	}
	v, err := kafkalog.Encode(nil, k.addr.Format, e)
	if err != nil {
		return err
	}
	k.exMax = e.Time
	k.exBatch = append(k.exBatch, kafka.Message{Key: []byte(e.Session), Value: v, Time: e.Time, Headers: k.exHeaders})
	return nil
}

// AddFrame is part of capture.TapOutput.
func (k *Kafka) AddFrame(f *schema.Frame) error {
	if err := k.refuse(f.Time, k.frMax, len(k.frBatch)); err != nil {
		return err
	}
	v, err := json.Marshal(f)
	if err != nil {
		return err
	}
	k.frMax = f.Time
	k.frBatch = append(k.frBatch, kafka.Message{Key: []byte(f.Session), Value: v, Time: f.Time, Headers: k.frHeaders})
	return nil
}

// Flush produces the batched records. A failed flush loses its batch
// (counted) and refuses events for the retry period.
func (k *Kafka) Flush(l capture.TapLoss) (capture.TapLost, error) {
	return k.flush(l, false)
}

func (k *Kafka) flush(l capture.TapLoss, closing bool) (capture.TapLost, error) {
	loss, _ := json.Marshal(l)
	report := string(loss) != k.lastLoss &&
		(closing || l.Dropped != k.lastDropped || time.Since(k.lastMeta) >= MetaInterval)
	if len(k.exBatch)+len(k.frBatch) == 0 && !report {
		return capture.TapLost{}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), k.cfg.timeout())
	defer cancel()
	var lost capture.TapLost
	err := k.ensure(ctx)
	if err != nil {
		lost = capture.TapLost{Exchanges: int64(len(k.exBatch)), Frames: int64(len(k.frBatch))}
	} else {
		// kafka-go may have delivered part of a failed write; the tap
		// counts the whole batch lost (it cannot tell which records).
		if len(k.exBatch) > 0 {
			if werr := k.ex.WriteMessages(ctx, k.exBatch...); werr != nil {
				err, lost.Exchanges = werr, int64(len(k.exBatch))
			}
		}
		if len(k.frBatch) > 0 {
			if werr := k.fr.WriteMessages(ctx, k.frBatch...); werr != nil {
				err, lost.Frames = errors.Join(err, werr), int64(len(k.frBatch))
			}
		}
	}
	if err == nil && report {
		if err = k.meta.WriteMessages(ctx, kafka.Message{Key: []byte(k.run), Value: loss, Headers: k.frHeaders[:2]}); err == nil {
			k.lastLoss, k.lastDropped, k.lastMeta = string(loss), l.Dropped, time.Now()
		}
	}
	if err != nil {
		retry := k.cfg.Retry
		if retry <= 0 {
			retry = DefaultRetry
		}
		k.failUntil = time.Now().Add(retry)
		err = fmt.Errorf("tapout: produce to %s: %w", k.addr, err)
	}
	clear(k.exBatch)
	clear(k.frBatch)
	k.exBatch, k.frBatch = k.exBatch[:0], k.frBatch[:0]
	return lost, err
}

// ensure creates the topics once.
func (k *Kafka) ensure(ctx context.Context) error {
	if k.ready {
		return nil
	}
	if err := kafkalog.EnsureTopic(ctx, k.addr); err != nil {
		return err
	}
	if err := kafkalog.EnsureTopic(ctx, k.frAddr); err != nil {
		return err
	}
	if err := kafkalog.EnsureTopic(ctx, k.metaAddr); err != nil {
		return err
	}
	k.ready = true
	return nil
}

// Close produces what is batched and the final loss, and closes the
// connections.
func (k *Kafka) Close(l capture.TapLoss) error {
	_, err := k.flush(l, true)
	return errors.Join(err, k.ex.Close(), k.fr.Close(), k.meta.Close())
}

// ReadLoss returns the capture loss recorded in the meta topic of a's
// capture: the latest report of each run, summed. ok is false when the
// topic does not exist or holds no report.
func ReadLoss(ctx context.Context, a kafkalog.Addr) (loss capture.TapLoss, ok bool, err error) {
	meta := a
	meta.Topic += MetaTopicSuffix
	if _, err := kafkalog.Partitions(ctx, meta); err != nil {
		if errors.Is(err, kafka.UnknownTopicOrPartition) {
			return loss, false, nil
		}
		return loss, false, err
	}
	conn, err := kafka.DialLeader(ctx, "tcp", meta.Brokers[0], meta.Topic, 0)
	if err != nil {
		return loss, false, fmt.Errorf("tapout: %s: %w", meta.Topic, err)
	}
	defer conn.Close()
	first, last, err := conn.ReadOffsets()
	if err != nil || first >= last {
		return loss, false, err
	}
	if _, err := conn.Seek(first, kafka.SeekAbsolute); err != nil {
		return loss, false, err
	}
	if d, ok := ctx.Deadline(); ok {
		conn.SetReadDeadline(d)
	}
	runs := map[string]capture.TapLoss{}
	batch := conn.ReadBatch(1, 16<<20)
	defer func() { batch.Close() }()
	for off := first; off < last; {
		m, err := batch.ReadMessage()
		if errors.Is(err, io.EOF) {
			// The fetch ended before the end offset: fetch the rest.
			batch.Close()
			batch = conn.ReadBatch(1, 16<<20)
			continue
		}
		if err != nil {
			return loss, false, fmt.Errorf("tapout: %s offset %d: %w", meta.Topic, off, err)
		}
		off = m.Offset + 1
		var l capture.TapLoss
		if err := json.Unmarshal(m.Value, &l); err != nil {
			return loss, false, fmt.Errorf("tapout: %s offset %d: %w", meta.Topic, off, err)
		}
		runs[string(m.Key)] = l
	}
	for _, l := range runs {
		loss = loss.Plus(l)
	}
	return loss, len(runs) > 0, nil
}
