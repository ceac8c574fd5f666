package schema

import "time"

// Error classes of a Result. A failed request is data: its class says what
// went wrong. "" means the request got a response (whatever its status).
const (
	ErrTimeout  = "timeout"  // no complete response within the request timeout
	ErrConnect  = "connect"  // the connection could not be made
	ErrReset    = "reset"    // the connection broke while the request was in flight
	ErrProtocol = "protocol" // the response could not be parsed
	ErrCanceled = "canceled" // the run stopped while the request was in flight

	// Dropped requests were never sent.
	DroppedDeadline = "dropped_deadline" // too late to send (past the lateness limit)
	DroppedCap      = "dropped_cap"      // over the --max-rps cap
	DroppedAbort    = "dropped_abort"    // the run was aborted or stopped first
	// DroppedTruncated is a request whose body the capture kept in part:
	// not sent cut as if whole (replay.Config.SendTruncated sends it).
	DroppedTruncated = "dropped_truncated"
)

// IsDropped reports whether an error class means the request was not sent.
func IsDropped(class string) bool {
	return class == DroppedDeadline || class == DroppedCap || class == DroppedAbort ||
		class == DroppedTruncated
}

// Result is the outcome of one replayed request.
//
// Intended is when the schedule said to send it; Sent when it was sent (nil
// when dropped). LatencyNS runs from Intended to the end of the response (or
// the error): it includes any lateness of the generator and any queueing, so
// it never hides coordinated omission. ServiceNS runs from Sent. LatenessNS
// is Sent − Intended, the generator's own delay.
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
}

// EventTime returns the intended send time: results are ordered by it.
func (r *Result) EventTime() time.Time { return r.Intended }
