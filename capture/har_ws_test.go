package capture

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// harWSEntry is a Chrome HAR entry of a WebSocket upgrade with messages.
const harWSEntry = `{"startedDateTime":"2026-11-21T19:45:00.000Z","time":12,"_resourceType":"websocket",
"request":{"method":"GET","url":"wss://live.example.com/chat/room-7?token=s3cr3t-token-value","httpVersion":"HTTP/1.1",
 "headers":[{"name":"Upgrade","value":"websocket"},{"name":"Connection","value":"Upgrade"},{"name":"Sec-WebSocket-Key","value":"dGhlIHNhbXBsZSBub25jZQ=="}]},
"response":{"status":101,"headers":[]},
"_webSocketMessages":[
 {"type":"send","time":1795290300.25,"opcode":1,"data":"{\"join\":\"room-7\",\"password\":\"hunter22\"}"},
 {"type":"receive","time":1795290300.260125,"opcode":1,"data":"{\"seq\":1}"},
 {"type":"send","time":1795290301.5,"opcode":2,"data":"AAEC"},
 {"type":"receive","time":1795290302,"opcode":8,"data":""}]}`

// TestHARWebSocketMessages: Chrome's _webSocketMessages become frames of
// the upgrade's connection, in order, with times, directions, opcodes and
// payloads (binary from base64), secrets scrubbed.
func TestHARWebSocketMessages(t *testing.T) {
	var exchanges []*schema.Exchange
	var frames []*schema.Frame
	opts := Options{Scrub: ScrubConfig{Key: []byte("ws-key")}, Frames: func(f *schema.Frame) error {
		frames = append(frames, f)
		return nil
	}}
	doc := harDoc(harEntry1, harWSEntry)
	rep, err := Import(context.Background(), []Input{{Name: "ws.har", Decode: NewHARDecoder(strings.NewReader(doc), "ws.har")}}, opts, func(e *schema.Exchange) error {
		exchanges = append(exchanges, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var up *schema.Exchange
	for _, e := range exchanges {
		if e.Protocol == schema.ProtoWebSocket {
			up = e
		}
	}
	if up == nil || len(frames) != 4 || rep.Frames != 4 {
		t.Fatalf("upgrade %v, %d frames (report %d); want the upgrade and 4", up != nil, len(frames), rep.Frames)
	}
	conn := up.Session + "#" + itoa(int(up.Seq))
	want := []struct {
		dir     string
		op      int32
		at      time.Duration // after the upgrade
		payload string
	}{
		{schema.FromClient, schema.OpText, 250 * time.Millisecond, ""},
		{schema.FromServer, schema.OpText, 260125 * time.Microsecond, `{"seq":1}`},
		{schema.FromClient, schema.OpBinary, 1500 * time.Millisecond, "\x00\x01\x02"},
		{schema.FromServer, schema.OpClose, 2 * time.Second, ""},
	}
	for i, w := range want {
		f := frames[i]
		if f.Session != up.Session || f.Conn != conn || f.Seq != int32(i) {
			t.Errorf("frame %d: session %q conn %q seq %d; want %q %q %d", i, f.Session, f.Conn, f.Seq, up.Session, conn, i)
		}
		if f.Direction != w.dir || f.Opcode != w.op || f.Time.Sub(up.Time) != w.at || f.Source != "har" {
			t.Errorf("frame %d: %s op %d at +%s source %q; want %s op %d at +%s har", i, f.Direction, f.Opcode, f.Time.Sub(up.Time), f.Source, w.dir, w.op, w.at)
		}
		if w.payload != "" && string(f.Payload) != w.payload {
			t.Errorf("frame %d: payload %q; want %q", i, f.Payload, w.payload)
		}
		if err := f.Validate(); len(err) > 0 {
			t.Errorf("frame %d invalid: %v", i, err)
		}
	}
	if p := string(frames[0].Payload); strings.Contains(p, "hunter22") || !strings.Contains(p, `"join":"room-7"`) {
		t.Errorf("client payload %s; want the password scrubbed, the rest kept", p)
	}
}

// TestHARWebSocketMessageErrors: each bad message is a RecordError naming
// its field.
func TestHARWebSocketMessageErrors(t *testing.T) {
	for _, c := range []struct {
		comment, from, to, field string
	}{
		{"type neither send nor receive", `"type":"send","time":1795290300.25`, `"type":"sent","time":1795290300.25`, "_webSocketMessages[0].type"},
		{"time missing", `"time":1795290301.5,`, ``, "_webSocketMessages[2].time"},
		{"time in milliseconds", `1795290301.5`, `1795290301500`, "_webSocketMessages[2].time"},
		{"time before the upgrade", `1795290301.5`, `1795290000`, "_webSocketMessages[2].time"},
		{"opcode not one", `"opcode":2`, `"opcode":3`, "_webSocketMessages[2].opcode"},
		{"binary data not base64", `"AAEC"`, `"not base64!"`, "_webSocketMessages[2].data"},
		{"messages on a plain request", `{"name":"Upgrade","value":"websocket"},`, ``, "_webSocketMessages"},
	} {
		entry := strings.Replace(harWSEntry, c.from, c.to, 1)
		if entry == harWSEntry {
			t.Fatalf("%s: %q not in the entry", c.comment, c.from)
		}
		if c.field == "_webSocketMessages" {
			entry = strings.Replace(entry, `"status":101`, `"status":200`, 1)
		}
		var h Hit
		err := NewHARDecoder(strings.NewReader(harDoc(entry)), "t.har")(&h)
		var rerr *RecordError
		if !errors.As(err, &rerr) || rerr.Field != c.field {
			t.Errorf("%s: decode = %v; want a RecordError on %s", c.comment, err, c.field)
		}
	}
}

// TestJSONLFrames: a JSON lines upgrade carries its frames (text or base64
// payload); bad frames name their field.
func TestJSONLFrames(t *testing.T) {
	line := `{"time":"2026-11-21T19:45:00Z","host":"h","path":"/feed","headers":[{"name":"Upgrade","value":"websocket"}],"status":101,` +
		`"frames":[{"time":"2026-11-21T19:45:00.5Z","direction":"client","opcode":1,"text":"hi"},{"time":"2026-11-21T19:45:01Z","direction":"server","opcode":2,"payload":"AAE="}]}`
	var h Hit
	if err := NewJSONLDecoder(strings.NewReader(line), "f.jsonl")(&h); err != nil {
		t.Fatal(err)
	}
	if len(h.Frames) != 2 || string(h.Frames[0].Payload) != "hi" || string(h.Frames[1].Payload) != "\x00\x01" || h.Frames[1].Direction != schema.FromServer {
		t.Fatalf("frames = %+v; want hi from the client, 00 01 from the server", h.Frames)
	}
	for _, c := range []struct{ comment, from, to, field string }{
		{"direction", `"direction":"client"`, `"direction":"up"`, "frames[0].direction"},
		{"time", `"2026-11-21T19:45:00.5Z"`, `"noon"`, "frames[0].time"},
		{"opcode", `"opcode":2`, `"opcode":0`, "frames[1].opcode"},
		{"payload", `"AAE="`, `"%%"`, "frames[1].payload"},
		{"both", `"text":"hi"`, `"text":"hi","payload":"aGk="`, "frames[0].text"},
		{"not an upgrade", `"headers":[{"name":"Upgrade","value":"websocket"}],"status":101,`, ``, "frames"},
	} {
		bad := strings.Replace(line, c.from, c.to, 1)
		var h Hit
		err := NewJSONLDecoder(strings.NewReader(bad), "f.jsonl")(&h)
		var rerr *RecordError
		if !errors.As(err, &rerr) || rerr.Field != c.field {
			t.Errorf("%s: decode = %v; want a RecordError on %s", c.comment, err, c.field)
		}
	}
}

// FuzzHARWebSocketMessages: any _webSocketMessages array decodes to valid
// frames or a RecordError, never a panic.
func FuzzHARWebSocketMessages(f *testing.F) {
	f.Add(`[{"type":"send","time":1795290300.25,"opcode":1,"data":"x"}]`)
	f.Add(`[{"type":"receive","time":1e300,"opcode":2,"data":"AA=="}]`)
	f.Add(`[{"type":"send","time":-1,"opcode":8}]`)
	f.Fuzz(func(t *testing.T, msgs string) {
		var m []harWSMessage
		if json.Unmarshal([]byte(msgs), &m) != nil {
			return
		}
		h := Hit{}
		h.Exchange.Time = time.Unix(1795290300, 0)
		h.Exchange.Protocol = schema.ProtoWebSocket
		if harFrames(&h, m) != nil {
			return
		}
		for i := range h.Frames {
			fr := h.Frames[i]
			fr.Session, fr.Conn = "s", "s#0"
			if errs := fr.Validate(); len(errs) > 0 {
				t.Errorf("frame %d of %s invalid: %v", i, msgs, errs)
			}
		}
	})
}

// FuzzJSONLFrames: any frames array decodes to valid frames or a
// RecordError.
func FuzzJSONLFrames(f *testing.F) {
	f.Add(`[{"time":"2026-11-21T19:45:00.5Z","direction":"client","opcode":1,"text":"hi"}]`)
	f.Add(`[{"time":"2026-11-21T19:45:00.5Z","direction":"server","opcode":2,"payload":"AAE=","payload_size":9}]`)
	f.Fuzz(func(t *testing.T, fs string) {
		var m []jsonlFrame
		if json.Unmarshal([]byte(fs), &m) != nil {
			return
		}
		h := Hit{}
		h.Exchange.Time = time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC)
		h.Exchange.Protocol = schema.ProtoWebSocket
		if jsonlFrames(&h, m) != nil {
			return
		}
		for i := range h.Frames {
			fr := h.Frames[i]
			fr.Session, fr.Conn, fr.Source = "s", "s#0", "jsonl"
			if errs := fr.Validate(); len(errs) > 0 {
				t.Errorf("frame %d of %s invalid: %v", i, fs, errs)
			}
		}
	})
}
