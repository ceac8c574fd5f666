package schema

import "time"

// Error classes of a Result. A failed request is data: its class says what
// went wrong. "" means the request got a response (whatever its status).
//
// Each class means one thing. The target's: connect, tls, timeout, reset,
// protocol. The region's DNS: dns. Ours: canceled (our stop cut a request written to a socket),
// request (a request we could not build or write). Result.Detail carries the
// reason (the errno, the TLS alert or certificate error) where there is one.
const (
	ErrTimeout  = "timeout"  // written, but no complete response within the request timeout
	ErrConnect  = "connect"  // the connection could not be made (refused, unreachable, connect timeout)
	ErrTLS      = "tls"      // the TLS handshake failed (Detail: the reason)
	ErrReset    = "reset"    // the peer closed or reset the connection while the request was in flight
	ErrProtocol = "protocol" // the response could not be parsed
	ErrCanceled = "canceled" // the run stopped while the request was in flight (written)
	ErrRequest  = "request"  // the request could not be built or sent as recorded (Detail: why)
	// ErrDNS is a request whose region's resolvers gave no usable address
	// for the target (Detail: nxdomain, servfail, timeout, no address, or
	// "not allowed: IP" for an answer off the allowlist): never written,
	// and not the target's failure.
	ErrDNS = "dns"

	// Dropped requests were never written to a socket.
	DroppedDeadline = "dropped_deadline" // too late to send (the generator past the lateness limit)
	DroppedCap      = "dropped_cap"      // over the --max-rps cap
	DroppedAbort    = "dropped_abort"    // the run was aborted or stopped first (also: still waiting for a connection at the stop)
	DroppedQueue    = "dropped_queue"    // waited inside surge for a connection past the lateness limit (client queueing, not generator lateness)
	// DroppedTruncated is a request whose body the capture kept in part:
	// not sent cut as if whole (replay.Config.SendTruncated sends it).
	DroppedTruncated = "dropped_truncated"
)

// Connection use of a Result (Result.Conn).
const (
	ConnNew    = "new"    // the request opened the connection it went on
	ConnReused = "reused" // it went on a connection that had carried a request before
)

// IsDropped reports whether an error class means the request was not sent.
func IsDropped(class string) bool {
	return class == DroppedDeadline || class == DroppedCap || class == DroppedAbort ||
		class == DroppedQueue || class == DroppedTruncated
}

// Result is the outcome of one replayed request.
//
// Intended is when the schedule said to send it; Sent when it was written to
// a socket (nil when it never was: dropped, or a connect/tls/request error).
// LatencyNS runs from Intended to the end of the response (or the error): it
// includes any lateness of the generator and any queueing, so it never hides
// coordinated omission. ServiceNS runs from Sent. LatenessNS is the
// generator's own delay, from Intended to when the pacer handed the request
// to the driver; Sent − Intended adds the client queueing (QueueNS) and the
// connect time (ConnectNS).
type Result struct {
	Intended   time.Time  `parquet:"intended,timestamp(nanosecond:utc),delta" json:"intended"`
	Sent       *time.Time `parquet:"sent,optional,timestamp(nanosecond:utc)" json:"sent,omitempty"`
	LatencyNS  int64      `parquet:"latency_ns" json:"latency_ns"`
	ServiceNS  int64      `parquet:"service_ns" json:"service_ns"`
	LatenessNS int64      `parquet:"lateness_ns" json:"lateness_ns"`
	Status     int32      `parquet:"status" json:"status"` // 0 when there was no response
	BytesOut   int64      `parquet:"bytes_out" json:"bytes_out"`
	BytesIn    int64      `parquet:"bytes_in" json:"bytes_in"`
	Error      string     `parquet:"error,dict" json:"error,omitempty"`
	Session    string     `parquet:"session" json:"session"` // recorded session
	Clone      int32      `parquet:"clone" json:"clone"`     // 0 is the recorded session itself
	User       string     `parquet:"user" json:"user,omitempty"`
	Seq        int32      `parquet:"seq" json:"seq"`
	Method     string     `parquet:"method,dict" json:"method"`
	Route      string     `parquet:"route,dict" json:"route"` // route group, e.g. "GET /live/{id}/seg-{n}.ts"
	Region     string     `parquet:"region,dict" json:"region,omitempty"`
	Device     string     `parquet:"device,dict" json:"device,omitempty"`

	// Connection facts (schema 1.1). QueueNS is the time the request waited
	// inside surge for a connection (client queueing), after the pacer
	// handed it over; ConnectNS the time to open the connection it opened
	// (TCP connect and TLS handshake; 0 on a reused one); Conn is ConnNew,
	// ConnReused or "" (no connection carried it); TLS is true when its
	// connection made a TLS handshake for it; Retries counts sends after the
	// first (0 or 1); Detail is the reason of an error class, when known.
	QueueNS   int64  `parquet:"queue_ns,optional" json:"queue_ns,omitempty"`
	ConnectNS int64  `parquet:"connect_ns,optional" json:"connect_ns,omitempty"`
	Conn      string `parquet:"conn,optional,dict" json:"conn,omitempty"`
	TLS       bool   `parquet:"tls,optional" json:"tls,omitempty"`
	Retries   int32  `parquet:"retries,optional" json:"retries,omitempty"`
	Detail    string `parquet:"detail,optional,dict" json:"detail,omitempty"`
	// RecordedStatus is the status the capture recorded for the request (0
	// when it recorded none), so a report can tell a failure the recording
	// had too (a 404 then and now) from a new one.
	RecordedStatus int32 `parquet:"recorded_status,optional" json:"recorded_status,omitempty"`
}

// EventTime returns the intended send time: results are ordered by it.
func (r *Result) EventTime() time.Time { return r.Intended }
