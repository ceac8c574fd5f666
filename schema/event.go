package schema

import "time"

// Event is what every event type has: a time. Logs are ordered by it.
type Event interface {
	EventTime() time.Time
}

// Kinded is implemented by projections of an event type declared outside
// this package (a struct with a subset of the columns, same tags), so files
// can be read into them.
type Kinded interface {
	EventKind() Kind
}

// KindOf returns the kind of file that holds events of v's type (a pointer or
// value of Exchange, RequestLine, Frame, ViewingEvent or a Kinded
// projection), or "" for other types.
func KindOf(v any) Kind {
	if k, ok := v.(Kinded); ok {
		return k.EventKind()
	}
	switch v.(type) {
	case Exchange, *Exchange, RequestLine, *RequestLine:
		return KindExchange
	case Frame, *Frame:
		return KindFrame
	case ViewingEvent, *ViewingEvent:
		return KindView
	case Result, *Result:
		return KindResult
	}
	return ""
}

// TimeColumn returns the name of the column that orders a kind of file: the
// event time, or for results the intended send time.
func TimeColumn(k Kind) string {
	if k == KindResult {
		return "intended"
	}
	return "time"
}
