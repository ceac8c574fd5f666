package schema

import "time"

// Directions of a WebSocket Frame.
const (
	FromClient = "client" // sent by the client to the server
	FromServer = "server" // sent by the server to the client
)

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	OpText   = 1
	OpBinary = 2
	OpClose  = 8
	OpPing   = 9
	OpPong   = 10
)

// Frame is one WebSocket message on a recorded connection.
type Frame struct {
	Time             time.Time `parquet:"time,timestamp(nanosecond:utc),delta" json:"time"`
	Session          string    `parquet:"session" json:"session"`
	Conn             string    `parquet:"conn" json:"conn"`
	Seq              int32     `parquet:"seq,delta" json:"seq"`
	Direction        string    `parquet:"direction,dict" json:"direction"`
	Opcode           int32     `parquet:"opcode" json:"opcode"`
	Payload          []byte    `parquet:"payload" json:"payload,omitempty"`
	PayloadSize      int64     `parquet:"payload_size" json:"payload_size"`
	PayloadTruncated bool      `parquet:"payload_truncated" json:"payload_truncated,omitempty"`
	Source           string    `parquet:"source,dict" json:"source"`
}

// EventTime returns when the message was sent.
func (f *Frame) EventTime() time.Time { return f.Time }
