package report

import (
	"strconv"
	"time"

	"github.com/surge-replay/surge/schema"
)

// frameFacts is the projection of a WebSocket Frame a summary reads; its
// "route" is the direction and message type ("client text").
type frameFacts struct {
	Time      time.Time `parquet:"time,timestamp(nanosecond:utc),delta"`
	Session   string    `parquet:"session"`
	Direction string    `parquet:"direction,dict"`
	Opcode    int32     `parquet:"opcode"`
}

func (frameFacts) EventKind() schema.Kind  { return schema.KindFrame }
func (f *frameFacts) EventTime() time.Time { return f.Time }

func (f *frameFacts) route() string {
	return f.Direction + " " + opcodeName(f.Opcode)
}

// opcodeName names a WebSocket opcode (RFC 6455 section 5.2).
func opcodeName(op int32) string {
	switch op {
	case schema.OpText:
		return "text"
	case schema.OpBinary:
		return "binary"
	case schema.OpClose:
		return "close"
	case schema.OpPing:
		return "ping"
	case schema.OpPong:
		return "pong"
	}
	return "opcode " + strconv.Itoa(int(op))
}
