package capture

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/surge-replay/surge/schema"
)

func decodeJSONL(t testing.TB, data []byte, name string) []decodeResult {
	return drainHits(t, NewJSONLDecoder(bytes.NewReader(data), name), name, len(data))
}

func TestJSONLGolden(t *testing.T) {
	testGoldenFiles(t, "testdata/jsonl/*.jsonl", decodeJSONL)
}

func TestJSONLTruncated(t *testing.T) {
	testTruncations(t, "testdata/jsonl/*.jsonl", decodeJSONL, func(t *testing.T, data []byte, n int, got []decodeResult) {
		if _, _, fatal := countResults(got); fatal != 0 {
			t.Errorf("JSON lines cut to %d of %d bytes: %d fatal errors; want 0 (a cut line is a bad record)", n, len(data), fatal)
		}
	})
}

func TestJSONLDecoder(t *testing.T) {
	const base = `"time":"2025-03-14T08:26:53Z","host":"h"`
	tests := []struct {
		comment string
		line    string
		want    string // "METHOD scheme://host/path?query protocol source device client user session", for a hit
		field   string // of the RecordError, when one is expected
	}{
		{"defaults: GET, http, /, HTTP/1.1, jsonl", `{` + base + `}`, "GET http://h/ HTTP/1.1 jsonl    ", ""},
		{"session and user are raw ids for the pipeline", `{` + base + `,"session":"s1","user":"u1","client":"192.0.2.1"}`, "GET http://h/ HTTP/1.1 jsonl  192.0.2.1 u1 s1", ""},
		{"session_id and user_id win over session and user", `{` + base + `,"session":"s1","user":"u1","session_id":"S","user_id":"U"}`, "GET http://h/ HTTP/1.1 jsonl   U S", ""},
		{"a query in the path is split off", `{` + base + `,"path":"/a?b=1"}`, "GET http://h/a?b=1 HTTP/1.1 jsonl    ", ""},
		{"host from the Host header", `{"time":"2025-03-14T08:26:53Z","headers":[{"name":"Host","value":"hh"}]}`, "GET http://hh/ HTTP/1.1 jsonl    ", ""},
		{"device from the User-Agent", `{` + base + `,"headers":[{"name":"User-Agent","value":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X)"}]}`, "GET http://h/ HTTP/1.1 jsonl mobile   ", ""},
		{"a given device and source are kept", `{` + base + `,"device":"tv","source":"nginx","protocol":"HTTP/2","scheme":"https","method":"PUT"}`, "PUT https://h/ HTTP/2 nginx tv   ", ""},
		{"an upgrade is WebSocket", `{` + base + `,"status":101}`, "GET http://h/ WebSocket jsonl    ", ""},
		{"unknown field", `{` + base + `,"colour":"blue"}`, "", "colour"},
		{"unknown field inside a header", `{` + base + `,"headers":[{"name":"A","value":"b","x":1}]}`, "", "x"},
		{"no time", `{"host":"h"}`, "", "time"},
		{"time not RFC 3339", `{"time":"2025-03-14 08:26:53","host":"h"}`, "", "time"},
		{"seq not a number", `{` + base + `,"seq":"1"}`, "", "seq"},
		{"a header value of the wrong type", `{` + base + `,"headers":[{"name":"A","value":1}]}`, "", "headers.value"},
		{"body not base64", `{` + base + `,"body":"!!"}`, "", "body"},
		{"body_size below the body", `{` + base + `,"body":"aGVsbG8=","body_size":2}`, "", "body_size"},
		{"body_truncated without a larger body_size", `{` + base + `,"body":"aGVsbG8=","body_truncated":true}`, "", "body_truncated"},
		{"status out of range", `{` + base + `,"status":42}`, "", "status"},
		{"unknown protocol", `{` + base + `,"protocol":"h3"}`, "", "protocol"},
		{"unknown scheme", `{` + base + `,"scheme":"ftp"}`, "", "scheme"},
		{"no host", `{"time":"2025-03-14T08:26:53Z"}`, "", "host"},
		{"negative latency", `{` + base + `,"latency_ns":-1}`, "", "latency_ns"},
		{"not an object", `[1]`, "", ""},
		{"two objects on a line", `{` + base + `} {}`, "", ""},
		{"broken JSON", `{"time":`, "", ""},
	}
	for _, tt := range tests {
		var h Hit
		err := NewJSONLDecoder(strings.NewReader(tt.line), "t.jsonl")(&h)
		var rerr *RecordError
		if tt.want == "" {
			if !errors.As(err, &rerr) || rerr.Field != tt.field || rerr.Pos.Line != 1 {
				t.Errorf("%s: decode(%s) = %v; want a RecordError on line 1, field %q", tt.comment, tt.line, err, tt.field)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: decode(%s) = %v; want a hit", tt.comment, tt.line, err)
			continue
		}
		e := &h.Exchange
		got := fmt.Sprintf("%s %s://%s%s", e.Method, e.Scheme, e.Host, e.Path)
		if e.Query != "" {
			got += "?" + e.Query
		}
		got += fmt.Sprintf(" %s %s %s %s %s %s", e.Protocol, e.Source, e.Device, h.Client, h.UserID, h.SessionID)
		if got != tt.want {
			t.Errorf("%s: decode(%s) = %q; want %q", tt.comment, tt.line, got, tt.want)
		}
	}
}

func TestJSONLTruncatedBody(t *testing.T) {
	line := `{"time":"2025-03-14T08:26:53Z","host":"h","body":"aGVsbG8=","body_size":1000,"body_truncated":true}`
	var h Hit
	if err := NewJSONLDecoder(strings.NewReader(line), "t.jsonl")(&h); err != nil {
		t.Fatal(err)
	}
	if e := h.Exchange; string(e.Body) != "hello" || e.BodySize != 1000 || !e.BodyTruncated {
		t.Errorf("decode(a truncated body) = %q, %d, %v; want hello, 1000, true", e.Body, e.BodySize, e.BodyTruncated)
	}
}

// TestJSONLRoundTrip checks that an Exchange written with encoding/json reads
// back as itself.
func TestJSONLRoundTrip(t *testing.T) {
	var h Hit
	want := schema.Exchange{
		Seq: 3, Method: "POST", Scheme: "https", Host: "h", Path: "/p", Query: "a=1",
		Headers: []schema.Header{{Name: "Content-Type", Value: "text/plain"}, {Name: "X-Dup", Value: "1"}, {Name: "X-Dup", Value: "2"}},
		Status:  schema.Int32(200),
		Region:  "eu", Device: "tv", Protocol: schema.ProtoHTTP2, Source: "tap",
		LatencyNS: schema.Int64(5), ResponseBytes: schema.Int64(7),
	}
	if err := want.Time.UnmarshalText([]byte("2025-03-14T08:26:53.123456789Z")); err != nil {
		t.Fatal(err)
	}
	want.SetBody(bytes.Repeat([]byte("x"), schema.MaxBody+10), 0)
	line := resultLines(t, []decodeResult{{Exchange: &want}})
	line = bytes.TrimSuffix(bytes.TrimPrefix(line, []byte(`{"exchange":`)), []byte("}\n"))
	if err := NewJSONLDecoder(bytes.NewReader(line), "t.jsonl")(&h); err != nil {
		t.Fatal(err)
	}
	got, wantJSON := resultLines(t, []decodeResult{{Exchange: &h.Exchange}}), resultLines(t, []decodeResult{{Exchange: &want}})
	if !bytes.Equal(got, wantJSON) {
		t.Errorf("decode(encoding/json of an Exchange) =\n%s\nwant\n%s", got, wantJSON)
	}
}

func FuzzJSONLDecode(f *testing.F) {
	addSeeds(f, "testdata/jsonl/*.jsonl")
	addUnseenSeeds(f, "jsonl")
	f.Fuzz(func(t *testing.T, data []byte) {
		got := decodeJSONL(t, data, "fuzz.jsonl")
		if wideInput(t, data, got) {
			return
		}
		for _, r := range got {
			if r.Fatal != "" {
				t.Errorf("fatal error %s; want none from an in-memory reader", r.Fatal)
			}
		}
	})
}
