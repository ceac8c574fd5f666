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

	// WebSocket connection facts (schema 1.2), on the row of a WebSocket
	// upgrade (WS true): one row per connection attempt. The upgrade's
	// handshake is the request: LatencyNS runs from the intended time to
	// the 101 response, ServiceNS from the upgrade's send, ConnectNS is the
	// TCP (and TLS) connect, Status the handshake's status. Zero in rows of
	// plain HTTP requests and in results written before schema 1.2.
	WebSocket
}

// WebSocket holds what a replayed WebSocket connection did, from the
// handshake to its close (replay's WebSocket engine, docs/WEBSOCKET.md).
// Frames and bytes count messages (a fragmented message is one) and their
// payload bytes, excluding control frames. Times are nanoseconds.
type WebSocket struct {
	// WS is true on a WebSocket connection's row.
	WS bool `parquet:"ws,optional" json:"ws,omitempty"`
	// WSAttempt is 0 for the scheduled connection, n for its nth reconnect.
	WSAttempt int32 `parquet:"ws_attempt,optional" json:"ws_attempt,omitempty"`
	// WSDurationNS is the connection's life, from the 101 response to its
	// close (0 when the handshake failed).
	WSDurationNS int64 `parquet:"ws_duration_ns,optional" json:"ws_duration_ns,omitempty"`
	// WSFramesOut and WSBytesOut count the client messages sent;
	// WSFramesIn and WSBytesIn the server messages received.
	WSFramesOut int64 `parquet:"ws_frames_out,optional" json:"ws_frames_out,omitempty"`
	WSBytesOut  int64 `parquet:"ws_bytes_out,optional" json:"ws_bytes_out,omitempty"`
	WSFramesIn  int64 `parquet:"ws_frames_in,optional" json:"ws_frames_in,omitempty"`
	WSBytesIn   int64 `parquet:"ws_bytes_in,optional" json:"ws_bytes_in,omitempty"`
	// WSSkipped counts recorded client messages not sent: their time
	// passed while the client was reconnecting, or they were pings and
	// pongs (the library answers the target's pings itself).
	WSSkipped int64 `parquet:"ws_skipped,optional" json:"ws_skipped,omitempty"`
	// WSCloseCode is the close status (RFC 6455 §7.4): the one sent by
	// whoever closed, 1006 when the connection ended without a close
	// frame, 0 when it never opened.
	WSCloseCode int32 `parquet:"ws_close_code,optional" json:"ws_close_code,omitempty"`
	// WSCloseBy says who ended it: WSCloseClient (as recorded),
	// WSCloseTarget, WSCloseDrop (dropped by surge: a storm), WSCloseStop
	// (the run stopped).
	WSCloseBy string `parquet:"ws_close_by,optional,dict" json:"ws_close_by,omitempty"`
	// WSLateP99NS and WSLateMaxNS are the 99th percentile and the maximum
	// of the send lateness of its client messages (actual send time minus
	// recorded offset scaled by speed).
	WSLateP99NS int64 `parquet:"ws_late_p99_ns,optional" json:"ws_late_p99_ns,omitempty"`
	WSLateMaxNS int64 `parquet:"ws_late_max_ns,optional" json:"ws_late_max_ns,omitempty"`
	// Ordering and staleness checks of the frames received (replay
	// WSCheck): sequence gaps (numbers missing), duplicates, regressions
	// (a number below the highest seen), silences (heartbeat intervals
	// times the silence count without a frame), the largest staleness
	// (receive time minus producer time), and StaleOnReconnect: the
	// first frame after a reconnect was older than the last one before.
	WSGaps             int64 `parquet:"ws_gaps,optional" json:"ws_gaps,omitempty"`
	WSDuplicates       int64 `parquet:"ws_duplicates,optional" json:"ws_duplicates,omitempty"`
	WSRegressions      int64 `parquet:"ws_regressions,optional" json:"ws_regressions,omitempty"`
	WSSilences         int64 `parquet:"ws_silences,optional" json:"ws_silences,omitempty"`
	WSStaleMaxNS       int64 `parquet:"ws_stale_max_ns,optional" json:"ws_stale_max_ns,omitempty"`
	WSStaleOnReconnect bool  `parquet:"ws_stale_on_reconnect,optional" json:"ws_stale_on_reconnect,omitempty"`
}

// Who ended a WebSocket connection (Result.WSCloseBy).
const (
	WSCloseClient = "client" // the replay, as the recording did (or at its recorded end)
	WSCloseTarget = "target" // the target closed it (or it broke)
	WSCloseDrop   = "drop"   // surge dropped it on purpose (a reconnect storm)
	WSCloseStop   = "stop"   // the run stopped
)

// EventTime returns the intended send time: results are ordered by it.
func (r *Result) EventTime() time.Time { return r.Intended }
