package report

import (
	"fmt"
	"strings"

	"github.com/surge-replay/surge/schema"
)

// connAgg folds the connection facts of results (schema 1.1 fields): the
// client queueing, the connect time of new connections, and counts of
// connections opened and reused, TLS handshakes, retries and writes.
type connAgg struct {
	queue, connect dense
	queued         int64 // sent requests that waited for a connection (QueueNS > 0)
	opened, reused int64
	tls, retried   int64
	written        int64 // results with a Sent time: written to a socket
}

func newConnAgg() connAgg { return connAgg{queue: newDense(), connect: newDense()} }

// add folds r, a result that was not dropped.
func (c *connAgg) add(r *schema.Result) {
	c.queue.record(r.QueueNS)
	if r.QueueNS > 0 {
		c.queued++
	}
	switch r.Conn {
	case schema.ConnNew:
		c.opened++
		c.connect.record(r.ConnectNS)
	case schema.ConnReused:
		c.reused++
	}
	if r.TLS {
		c.tls++
	}
	if r.Retries > 0 {
		c.retried++
	}
	if r.Sent != nil {
		c.written++
	}
}

// ClientQueue is the time sent requests waited inside surge for a
// connection (client queueing), apart from the target's time and from the
// generator's lateness, in milliseconds; Waited counts those that waited at
// all.
type ClientQueue struct {
	Waited int64   `json:"waited"`
	P50    float64 `json:"p50"`
	P99    float64 `json:"p99"`
	Max    float64 `json:"max"`
}

// Connections counts what the replay did with connections: Opened (requests
// that opened the connection they went on), Reused (went on one that had
// carried a request), TLSHandshakes, Retried (requests sent a second time:
// idempotent, on a reused connection that closed unanswered) and Written
// (requests written to a socket; sent counts also the connect, tls and
// request errors, never written).
type Connections struct {
	Opened        int64 `json:"opened"`
	Reused        int64 `json:"reused"`
	TLSHandshakes int64 `json:"tls_handshakes"`
	Retried       int64 `json:"retried"`
	Written       int64 `json:"written"`
}

// summary fills the connection fields of s.
func (c *connAgg) summary(s *RunSummary) {
	s.ClientQueue = ClientQueue{
		Waited: c.queued,
		P50:    quantileMS(c.queue.h, 50, c.queue.max), P99: quantileMS(c.queue.h, 99, c.queue.max),
		Max: float64(c.queue.max) / 1000,
	}
	if c.opened > 0 {
		s.Connect = Lateness{
			P50: quantileMS(c.connect.h, 50, c.connect.max), P99: quantileMS(c.connect.h, 99, c.connect.max),
			Max: float64(c.connect.max) / 1000,
		}
	}
	s.Connections = Connections{Opened: c.opened, Reused: c.reused, TLSHandshakes: c.tls, Retried: c.retried, Written: c.written}
}

// writeConns writes the client queueing and connect rows of the latency
// table (row as writeLatency's) and the connection counts.
func (s *RunSummary) writeConns(b *strings.Builder, row func(name string, cells ...string)) {
	q, c := s.ClientQueue, s.Connect
	row("client queue", millis(q.P50), "", millis(q.P99), "", millis(q.Max))
	row("connect (new)", millis(c.P50), "", millis(c.P99), "", millis(c.Max))
	n := s.Connections
	fmt.Fprintf(b, "  connections opened %s  reused %s  tls handshakes %s  retried %s  written %s  (waited for one: %s)\n",
		count(n.Opened), count(n.Reused), count(n.TLSHandshakes), count(n.Retried), count(n.Written), count(q.Waited))
	if d := s.DroppedBy[schema.DroppedQueue]; d > 0 {
		fmt.Fprintf(b, "  client queueing: %s requests dropped waiting for a connection (the target held its connections; not the generator's lateness)\n", count(d))
	}
}
