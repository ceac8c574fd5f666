package schema

import "time"

// Event is what every event type has: a time. Logs are ordered by it.
type Event interface {
	EventTime() time.Time
}

// KindOf returns the kind of file that holds events of v's type (a pointer or
// value of Exchange, RequestLine, Frame or ViewingEvent), or "" for other
// types.
func KindOf(v any) Kind {
	switch v.(type) {
	case Exchange, *Exchange, RequestLine, *RequestLine:
		return KindExchange
	case Frame, *Frame:
		return KindFrame
	case ViewingEvent, *ViewingEvent:
		return KindView
	}
	return ""
}
