package capture

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Why an event was dropped (the reason label of
// surge_capture_dropped_events_total).
const (
	dropQueueFull = "queue_full" // the recorder's queue was full
	dropOutput    = "output"     // the output failed to write it
	dropShutdown  = "shutdown"   // it came after Close
	dropNoConn    = "no_conn"    // a frame of a connection whose upgrade was dropped
)

var dropReasons = []string{dropQueueFull, dropOutput, dropShutdown, dropNoConn}

// TapMetrics are a Tap's Prometheus metrics and the counts its loss report
// is made of. Its methods are safe for concurrent use.
type TapMetrics struct {
	exchanges, frames, sampledOut, outputErrors, late atomic.Int64
	dropped                                           [4]atomic.Int64 // by dropReasons index

	added      prometheus.Histogram
	wsBroken   prometheus.Counter
	queueDepth func() float64
}

// NewTapMetrics makes a Tap's metrics and registers them with reg (none
// when reg is nil):
//
//	surge_capture_events_total{kind}            events written (exchange, frame)
//	surge_capture_dropped_events_total{reason}  events lost (queue_full, output, shutdown, no_conn)
//	surge_capture_sampled_out_events_total      events of users outside the sample
//	surge_capture_queue_depth                   events waiting for the recorder
//	surge_capture_output_errors_total           failed output writes and flushes
//	surge_capture_late_events_total             events written after the re-order window
//	surge_capture_added_latency_seconds         time a request spent in the tap's own code
//	surge_capture_websocket_unparsed_total      WebSocket connections whose frames could not be parsed
func NewTapMetrics(reg prometheus.Registerer) *TapMetrics {
	m := &TapMetrics{
		added: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "surge_capture_added_latency_seconds",
			Help: "Time a proxied request spent in the capture tap's own code (before forwarding and after the response), in seconds.",
			// 1 µs to ~4 ms.
			Buckets: prometheus.ExponentialBuckets(1e-6, 2, 13),
		}),
		wsBroken: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "surge_capture_websocket_unparsed_total",
			Help: "WebSocket connections passed through whose frames could not be parsed (their later frames are not recorded).",
		}),
		queueDepth: func() float64 { return 0 },
	}
	if reg == nil {
		return m
	}
	counter := func(name, help string, v *atomic.Int64, labels prometheus.Labels) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(v.Load()) })
	}
	cs := []prometheus.Collector{
		m.added, m.wsBroken,
		counter("surge_capture_events_total", "Events written to the output.", &m.exchanges, prometheus.Labels{"kind": "exchange"}),
		counter("surge_capture_events_total", "Events written to the output.", &m.frames, prometheus.Labels{"kind": "frame"}),
		counter("surge_capture_sampled_out_events_total", "Events of users outside the sample (not lost: not wanted).", &m.sampledOut, nil),
		counter("surge_capture_output_errors_total", "Failed output writes and flushes.", &m.outputErrors, nil),
		counter("surge_capture_late_events_total", "Events written after the re-order window had passed their time.", &m.late, nil),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "surge_capture_queue_depth", Help: "Events waiting for the recorder."},
			func() float64 { return m.queueDepth() }),
	}
	for i, r := range dropReasons {
		cs = append(cs, counter("surge_capture_dropped_events_total", "Events lost by the capture (the proxied traffic is never affected).", &m.dropped[i], prometheus.Labels{"reason": r}))
	}
	for _, c := range cs {
		reg.MustRegister(c)
	}
	return m
}

func (m *TapMetrics) drop(reason string) { m.dropN(reason, 1) }

func (m *TapMetrics) dropN(reason string, n int64) {
	for i, r := range dropReasons {
		if r == reason {
			m.dropped[i].Add(n)
			return
		}
	}
}

// TapLoss is what a capture recorded and lost, written into the output's
// metadata (schema.MetaCaptureLoss) so that inspect and reports state
// capture loss.
type TapLoss struct {
	Source       string           `json:"source"`
	Exchanges    int64            `json:"exchanges"`
	Frames       int64            `json:"frames"`
	Dropped      int64            `json:"dropped"`
	DroppedBy    map[string]int64 `json:"dropped_by,omitempty"`
	SampledOut   int64            `json:"sampled_out"`
	Sample       float64          `json:"sample"`
	OutputErrors int64            `json:"output_errors"`
	Late         int64            `json:"late"`
}

func (m *TapMetrics) loss(sample float64) TapLoss {
	if sample <= 0 || sample > 1 {
		sample = 1
	}
	l := TapLoss{
		Source: TapSource, Exchanges: m.exchanges.Load(), Frames: m.frames.Load(),
		SampledOut: m.sampledOut.Load(), Sample: sample, OutputErrors: m.outputErrors.Load(), Late: m.late.Load(),
	}
	for i, r := range dropReasons {
		if n := m.dropped[i].Load(); n > 0 {
			if l.DroppedBy == nil {
				l.DroppedBy = map[string]int64{}
			}
			l.DroppedBy[r] = n
			l.Dropped += n
		}
	}
	return l
}

// Plus returns the sum of two losses (of two runs into one output); the
// sample is o's.
func (l TapLoss) Plus(o TapLoss) TapLoss {
	s := TapLoss{
		Source: TapSource, Exchanges: l.Exchanges + o.Exchanges, Frames: l.Frames + o.Frames,
		Dropped: l.Dropped + o.Dropped, SampledOut: l.SampledOut + o.SampledOut, Sample: o.Sample,
		OutputErrors: l.OutputErrors + o.OutputErrors, Late: l.Late + o.Late,
	}
	for _, m := range []map[string]int64{l.DroppedBy, o.DroppedBy} {
		for k, v := range m {
			if s.DroppedBy == nil {
				s.DroppedBy = map[string]int64{}
			}
			s.DroppedBy[k] += v
		}
	}
	return s
}
