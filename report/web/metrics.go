package web

import (
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

// MaxRouteLabels bounds the route_group label: the first 100 route groups a
// run sees get their own series, later ones share route_group="other", so a
// capture with unbounded paths cannot blow up a Prometheus server.
const MaxRouteLabels = 100

// latencyBuckets are the classic buckets of the latency histograms, in
// seconds (1 ms to 60 s); the native histograms have exponential buckets
// (factor 1.1) beside them for scrapers that ask for protobuf.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Metrics are a run's Prometheus metrics, fed with its results (Observe):
//
//	surge_requests_scheduled_total{route_group}        every request of the schedule
//	surge_requests_sent_total{route_group}             written to a socket (or tried)
//	surge_requests_dropped_total{route_group,reason}   never sent (dropped_deadline, …)
//	surge_request_errors_total{route_group,class}      sent and failed (timeout, http_5xx, …)
//	surge_request_latency_seconds{route_group}         from the intended time (histogram)
//	surge_request_service_seconds{route_group}         from the send (histogram)
//	surge_generator_lateness_seconds                   send − intended (histogram)
//	surge_client_queue_seconds                         waited inside surge for a connection
//	surge_connections_opened_total, surge_connections_reused_total
//	surge_live_sessions                                virtual users with a request intended
//	                                                   within the session idle gap
//	surge_ratio                                        the run's current ratio
//
// Counts are of results, which the engine hands over when a request ends:
// a request in flight is in none of them yet. Observe is safe for
// concurrent use.
type Metrics struct {
	Registry *prometheus.Registry

	scheduled, sent           *prometheus.CounterVec
	dropped, errors           *prometheus.CounterVec
	latency, service          *prometheus.HistogramVec
	lateness, queue           prometheus.Histogram
	opened, reused            prometheus.Counter
	ratio                     prometheus.Gauge
	mu                        sync.Mutex
	routes                    map[string]*routeMetrics
	sessions                  map[uint64]time.Time // last intended time of each live virtual user
	idle                      time.Duration
	lastEvict, latestIntended time.Time
}

type routeMetrics struct {
	scheduled, sent  prometheus.Counter
	latency, service prometheus.Observer
	label            string
}

// NewMetrics returns the metrics of a run whose sessions end after idle
// without a request (zero: 30 s), registered in a registry of their own.
func NewMetrics(idle time.Duration) *Metrics {
	if idle <= 0 {
		idle = 30 * time.Second
	}
	hist := func(name, help string) prometheus.HistogramOpts {
		return prometheus.HistogramOpts{
			Name: name, Help: help, Buckets: latencyBuckets,
			NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: 160,
			NativeHistogramMinResetDuration: time.Hour,
		}
	}
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		scheduled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "surge_requests_scheduled_total",
			Help: "Requests of the schedule whose result is in (sent or dropped), by route group."}, []string{"route_group"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "surge_requests_sent_total",
			Help: "Requests sent (written to a socket, or failed to connect), by route group."}, []string{"route_group"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "surge_requests_dropped_total",
			Help: "Requests never sent, by route group and reason (dropped_deadline: the generator was too late; dropped_cap, dropped_abort, dropped_queue, dropped_truncated)."}, []string{"route_group", "reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "surge_request_errors_total",
			Help: "Sent requests that failed, by route group and error class (timeout, connect, tls, reset, protocol, canceled, request, http_4xx, http_5xx)."}, []string{"route_group", "class"}),
		latency: prometheus.NewHistogramVec(hist("surge_request_latency_seconds",
			"Latency of sent requests from their intended time to the end of the response (no coordinated omission)."), []string{"route_group"}),
		service: prometheus.NewHistogramVec(hist("surge_request_service_seconds",
			"Latency of sent requests from the send to the end of the response (the target's service time)."), []string{"route_group"}),
		lateness: prometheus.NewHistogram(hist("surge_generator_lateness_seconds",
			"The generator's own delay: when it handed a request to the driver minus its intended time.")),
		queue: prometheus.NewHistogram(hist("surge_client_queue_seconds",
			"Time sent requests waited inside surge for a connection (client queueing).")),
		opened: prometheus.NewCounter(prometheus.CounterOpts{Name: "surge_connections_opened_total",
			Help: "Requests that opened the connection they went on."}),
		reused: prometheus.NewCounter(prometheus.CounterOpts{Name: "surge_connections_reused_total",
			Help: "Requests that went on a connection that had carried a request before."}),
		ratio: prometheus.NewGauge(prometheus.GaugeOpts{Name: "surge_ratio",
			Help: "The run's current ratio: virtual sessions per recorded session."}),
		routes: map[string]*routeMetrics{}, sessions: map[uint64]time.Time{}, idle: idle,
	}
	live := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "surge_live_sessions",
		Help: "Virtual users with a request intended within the session idle gap of the latest intended time seen."},
		m.liveSessions)
	m.Registry.MustRegister(m.scheduled, m.sent, m.dropped, m.errors, m.latency, m.service,
		m.lateness, m.queue, m.opened, m.reused, m.ratio, live)
	return m
}

// SetRatio sets the surge_ratio gauge.
func (m *Metrics) SetRatio(r float64) { m.ratio.Set(r) }

// route returns the metrics of a route group, or of "other" past
// MaxRouteLabels. Call with m.mu held.
func (m *Metrics) route(name string) *routeMetrics {
	if rm, ok := m.routes[name]; ok {
		return rm
	}
	label := strings.Clone(name)
	if len(m.routes) >= MaxRouteLabels {
		label = report.OtherRoute
		if rm, ok := m.routes[label]; ok {
			m.routes[label] = rm
			return rm
		}
	}
	rm := &routeMetrics{
		scheduled: m.scheduled.WithLabelValues(label), sent: m.sent.WithLabelValues(label),
		latency: m.latency.WithLabelValues(label), service: m.service.WithLabelValues(label), label: label,
	}
	if label == name || label == report.OtherRoute {
		m.routes[label] = rm
	}
	return rm
}

// Observe folds one result into the metrics. It does not keep r.
func (m *Metrics) Observe(r *schema.Result) {
	m.mu.Lock()
	rm := m.route(r.Route)
	m.touch(r)
	m.mu.Unlock()
	rm.scheduled.Inc()
	if schema.IsDropped(r.Error) {
		m.dropped.WithLabelValues(rm.label, r.Error).Inc()
		return
	}
	rm.sent.Inc()
	if class := errorClass(r); class != "" {
		m.errors.WithLabelValues(rm.label, class).Inc()
	}
	rm.latency.Observe(seconds(r.LatencyNS))
	rm.service.Observe(seconds(r.ServiceNS))
	m.lateness.Observe(seconds(r.LatenessNS))
	m.queue.Observe(seconds(r.QueueNS))
	switch r.Conn {
	case schema.ConnNew:
		m.opened.Inc()
	case schema.ConnReused:
		m.reused.Inc()
	}
}

// touch marks r's virtual user live at its intended time. Call with m.mu
// held.
func (m *Metrics) touch(r *schema.Result) {
	h := fnv.New64a()
	h.Write([]byte(r.Session))
	h.Write([]byte{byte(r.Clone), byte(r.Clone >> 8), byte(r.Clone >> 16), byte(r.Clone >> 24)})
	k := h.Sum64()
	if r.Intended.After(m.sessions[k]) {
		m.sessions[k] = r.Intended
	}
	if r.Intended.After(m.latestIntended) {
		m.latestIntended = r.Intended
	}
	// Evict at most once per idle gap / 4: memory stays bounded by the
	// sessions alive within about 1.25 idle gaps.
	if m.latestIntended.Sub(m.lastEvict) > m.idle/4 {
		m.evict()
	}
}

func (m *Metrics) evict() {
	for k, t := range m.sessions {
		if m.latestIntended.Sub(t) > m.idle {
			delete(m.sessions, k)
		}
	}
	m.lastEvict = m.latestIntended
}

func (m *Metrics) liveSessions() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.evict()
	return float64(len(m.sessions))
}

// errorClass is the report's class of a sent result ("" when it got a
// 1xx–3xx response).
func errorClass(r *schema.Result) string {
	switch {
	case r.Error != "":
		return r.Error
	case r.Status >= 100 && r.Status < 400:
		return ""
	case r.Status >= 400 && r.Status < 500:
		return report.ClassHTTP4xx
	case r.Status >= 500 && r.Status < 600:
		return report.ClassHTTP5xx
	case r.Status == 0:
		return report.ClassUnknown
	}
	return schema.ErrProtocol
}

func seconds(ns int64) float64 { return math.Max(float64(ns), 0) / 1e9 }
