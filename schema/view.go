package schema

import "time"

// Types of ViewingEvent.
const (
	ViewStart     = "start"
	ViewHeartbeat = "heartbeat"
	ViewStop      = "stop"
)

// ViewingEvent is one event of a viewing history: a user started, kept
// watching (heartbeat) or stopped watching a piece of content.
type ViewingEvent struct {
	Time       time.Time `parquet:"time,timestamp(nanosecond:utc),delta" json:"time"`
	User       string    `parquet:"user" json:"user"`
	Session    string    `parquet:"session" json:"session,omitempty"`
	Content    string    `parquet:"content,dict" json:"content"`
	Type       string    `parquet:"type,dict" json:"type"`
	PositionMS int64     `parquet:"position_ms" json:"position_ms"`
	WatchedMS  int64     `parquet:"watched_ms" json:"watched_ms"`
	Device     string    `parquet:"device,dict" json:"device,omitempty"`
	Region     string    `parquet:"region,dict" json:"region,omitempty"`
	Source     string    `parquet:"source,dict" json:"source"`
}

// EventTime returns when the event happened.
func (v *ViewingEvent) EventTime() time.Time { return v.Time }
