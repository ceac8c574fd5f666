package capture

import (
	"encoding/base64"
	"fmt"
	"math"
	"time"

	"github.com/surge-replay/surge/schema"
)

// harWSMessage is one entry of Chrome's _webSocketMessages: type "send"
// (client to server) or "receive", time in seconds since the Unix epoch
// (a float), the opcode (RFC 6455 §5.2) and the data: text for opcode 1,
// base64 for binary (2), as Chrome's DevTools write it.
type harWSMessage struct {
	Type   string   `json:"type"`
	Time   *float64 `json:"time"`
	Opcode *int     `json:"opcode"`
	Data   string   `json:"data"`
}

// FrameLimit is how many bytes of a WebSocket message's payload an import
// keeps; longer payloads are cut and flagged (schema.Frame.PayloadTruncated).
const FrameLimit = schema.MaxBody

// frames decodes msgs into h.Frames: raw frames without session and
// connection ids (the pipeline sets them from the upgrade's). Field names
// in errors are those of the HAR ("_webSocketMessages[3].time").
func harFrames(h *Hit, msgs []harWSMessage) *RecordError {
	if len(msgs) > 0 && h.Exchange.Protocol != schema.ProtoWebSocket {
		return badRecord("_webSocketMessages", "messages on an entry that is not a WebSocket upgrade (no Upgrade: websocket header, no 101 status)")
	}
	for i := range msgs {
		m := &msgs[i]
		field := func(name string) string { return fmt.Sprintf("_webSocketMessages[%d].%s", i, name) }
		f := schema.Frame{Source: "har"}
		switch m.Type {
		case "send":
			f.Direction = schema.FromClient
		case "receive":
			f.Direction = schema.FromServer
		default:
			return badRecord(field("type"), "%q is not send or receive", m.Type)
		}
		if m.Time == nil {
			return badRecord(field("time"), "missing")
		}
		if t := *m.Time; math.IsNaN(t) || t <= 0 || t > 1e11 {
			return badRecord(field("time"), "%v is not seconds since the Unix epoch", t)
		}
		sec, frac := math.Modf(*m.Time)
		// Chrome writes microseconds; rounding to them undoes the float.
		f.Time = time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
		if f.Time.Before(h.Exchange.Time.Add(-time.Second)) {
			return badRecord(field("time"), "%s is before the upgrade started (%s)", f.Time.Format(time.RFC3339Nano), h.Exchange.Time.Format(time.RFC3339Nano))
		}
		if m.Opcode == nil {
			return badRecord(field("opcode"), "missing")
		}
		switch op := *m.Opcode; op {
		case schema.OpText, schema.OpClose, schema.OpPing, schema.OpPong:
			f.Opcode = int32(op)
			f.Payload = []byte(m.Data)
		case schema.OpBinary:
			b, err := base64.StdEncoding.DecodeString(m.Data)
			if err != nil {
				return badRecord(field("data"), "binary data is not base64: %v", err)
			}
			f.Opcode, f.Payload = int32(op), b
		default:
			return badRecord(field("opcode"), "%d is not a WebSocket opcode (1, 2, 8, 9, 10)", op)
		}
		f.PayloadSize = int64(len(f.Payload))
		if len(f.Payload) > FrameLimit {
			f.Payload, f.PayloadTruncated = f.Payload[:FrameLimit], true
		}
		h.Frames = append(h.Frames, f)
	}
	return nil
}

// jsonlFrame is one element of a JSON lines record's "frames": a WebSocket
// message of the upgrade the line records (docs/FORMATS.md).
type jsonlFrame struct {
	Time      string  `json:"time"`
	Direction string  `json:"direction"`
	Opcode    *int32  `json:"opcode"`
	Payload   string  `json:"payload"` // base64
	Text      *string `json:"text"`    // or the payload as text
	// PayloadSize and PayloadTruncated, as in schema.Frame, when the
	// payload holds only its start.
	PayloadSize      int64 `json:"payload_size"`
	PayloadTruncated bool  `json:"payload_truncated"`
}

// jsonlFrames decodes a record's frames into h.Frames.
func jsonlFrames(h *Hit, fs []jsonlFrame) *RecordError {
	if len(fs) > 0 && h.Exchange.Protocol != schema.ProtoWebSocket {
		return badRecord("frames", "frames on a record that is not a WebSocket upgrade (protocol %q)", h.Exchange.Protocol)
	}
	for i := range fs {
		j := &fs[i]
		field := func(name string) string { return fmt.Sprintf("frames[%d].%s", i, name) }
		f := schema.Frame{Source: h.Exchange.Source}
		t, err := time.Parse(time.RFC3339Nano, j.Time)
		if err != nil {
			return badRecord(field("time"), "%q is not an RFC 3339 time", j.Time)
		}
		f.Time = t.UTC()
		if f.Time.Before(h.Exchange.Time) {
			return badRecord(field("time"), "%s is before the upgrade (%s)", j.Time, h.Exchange.Time.Format(time.RFC3339Nano))
		}
		switch j.Direction {
		case schema.FromClient, schema.FromServer:
			f.Direction = j.Direction
		default:
			return badRecord(field("direction"), "%q is not client or server", j.Direction)
		}
		if j.Opcode == nil {
			return badRecord(field("opcode"), "missing")
		}
		switch op := *j.Opcode; op {
		case schema.OpText, schema.OpBinary, schema.OpClose, schema.OpPing, schema.OpPong:
			f.Opcode = op
		default:
			return badRecord(field("opcode"), "%d is not a WebSocket opcode (1, 2, 8, 9, 10)", op)
		}
		switch {
		case j.Text != nil && j.Payload != "":
			return badRecord(field("text"), "both text and payload given")
		case j.Text != nil:
			f.Payload = []byte(*j.Text)
		default:
			b, err := base64.StdEncoding.DecodeString(j.Payload)
			if err != nil {
				if b, err = base64.RawStdEncoding.DecodeString(j.Payload); err != nil {
					return badRecord(field("payload"), "not base64: %v", err)
				}
			}
			f.Payload = b
		}
		f.PayloadSize = int64(len(f.Payload))
		if j.PayloadSize > 0 || j.PayloadTruncated {
			if j.PayloadSize <= f.PayloadSize && j.PayloadTruncated || j.PayloadSize < f.PayloadSize {
				return badRecord(field("payload_size"), "%d is not more than the %d bytes of the payload kept", j.PayloadSize, f.PayloadSize)
			}
			f.PayloadSize, f.PayloadTruncated = j.PayloadSize, j.PayloadSize > int64(len(f.Payload))
		}
		if len(f.Payload) > FrameLimit {
			f.Payload, f.PayloadTruncated = f.Payload[:FrameLimit], true
		}
		h.Frames = append(h.Frames, f)
	}
	return nil
}
