package capture

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

func decodeViewsCSV(t testing.TB, data []byte, name string) []decodeResult {
	dec, err := NewViewsCSVDecoder(bytes.NewReader(data), name)
	if err != nil {
		return []decodeResult{fatalResult(t, err)}
	}
	return drainViews(t, dec, name, len(data))
}

func decodeViewsJSONL(t testing.TB, data []byte, name string) []decodeResult {
	return drainViews(t, NewViewsJSONLDecoder(bytes.NewReader(data), name), name, len(data))
}

func TestViewsCSVGolden(t *testing.T) {
	testGoldenFiles(t, "testdata/views/*.csv", decodeViewsCSV)
}

func TestViewsJSONLGolden(t *testing.T) {
	testGoldenFiles(t, "testdata/views/*.jsonl", decodeViewsJSONL)
}

func TestViewsCSVTruncated(t *testing.T) {
	testTruncations(t, "testdata/views/*.csv", decodeViewsCSV, func(t *testing.T, data []byte, n int, got []decodeResult) {
		header := bytes.IndexByte(data, '\n')
		if _, _, fatal := countResults(got); n > header && fatal != 0 {
			t.Errorf("views CSV cut to %d of %d bytes, after the header: %d fatal errors; want 0", n, len(data), fatal)
		}
	})
}

func TestViewsJSONLTruncated(t *testing.T) {
	testTruncations(t, "testdata/views/*.jsonl", decodeViewsJSONL, func(t *testing.T, data []byte, n int, got []decodeResult) {
		if _, _, fatal := countResults(got); fatal != 0 {
			t.Errorf("views JSON lines cut to %d of %d bytes: %d fatal errors; want 0", n, len(data), fatal)
		}
	})
}

func TestViewsCSVHeader(t *testing.T) {
	tests := []struct {
		comment string
		header  string
		err     string // substring of the constructor's error; "" for none
	}{
		{"every column, in the schema's order", "time,user,session,content,type,position_ms,watched_ms,device,region", ""},
		{"only the required columns, in any order", "type,content,user,time", ""},
		{"a byte order mark, spaces and capitals", "\ufeffTime , USER,content,type", ""},
		{"an unknown column is named", "time,user,content,type,rating", `unknown column "rating"`},
		{"a column twice", "time,user,content,type,user", `column "user" appears twice`},
		{"a required column missing", "time,user,type", `missing column "content"`},
		{"no header at all", "", "no header row"},
		{"a broken header", `time,"user`, "views CSV header"},
	}
	for _, tt := range tests {
		_, err := NewViewsCSVDecoder(strings.NewReader(tt.header+"\n"), "h.csv")
		if tt.header == "" {
			_, err = NewViewsCSVDecoder(strings.NewReader(""), "h.csv")
		}
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: NewViewsCSVDecoder(%q) = %v; want no error", tt.comment, tt.header, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "h.csv")):
			t.Errorf("%s: NewViewsCSVDecoder(%q) = %v; want an error naming h.csv and containing %q", tt.comment, tt.header, err, tt.err)
		}
	}
}

func TestViewsCSVRow(t *testing.T) {
	const header = "time,user,content,type,position_ms,watched_ms,session,device,region\n"
	tests := []struct {
		comment string
		row     string
		want    schema.ViewingEvent // Source "views" and Time are checked apart
		field   string              // of the RecordError, when one is expected
		reason  string              // substring of its reason
	}{
		{"a full row", "2025-03-14T20:00:00Z,alice,tt1,start,0,0,v1,tv,eu", schema.ViewingEvent{User: "alice", Content: "tt1", Type: "start", Session: "v1", Device: "tv", Region: "eu"}, "", ""},
		{"empty optional cells", "1741982400000,bob,tt2,heartbeat,,,,,", schema.ViewingEvent{User: "bob", Content: "tt2", Type: "heartbeat"}, "", ""},
		{"spaces around values", " 2025-03-14T20:00:00Z , carol , tt3 , stop , 5 , 6 ,,,", schema.ViewingEvent{User: "carol", Content: "tt3", Type: "stop", PositionMS: 5, WatchedMS: 6}, "", ""},
		{"play is not a type", "2025-03-14T20:00:00Z,alice,tt1,play,0,0,,,", schema.ViewingEvent{}, "type", "is not start, heartbeat or stop"},
		{"a bad time", "20/03/2025,alice,tt1,start,0,0,,,", schema.ViewingEvent{}, "time", "neither RFC 3339 nor milliseconds"},
		{"a fractional position", "2025-03-14T20:00:00Z,alice,tt1,start,1.5,0,,,", schema.ViewingEvent{}, "position_ms", "whole number"},
		{"a negative watched time", "2025-03-14T20:00:00Z,alice,tt1,stop,0,-1,,,", schema.ViewingEvent{}, "watched_ms", "negative"},
		{"no user", "2025-03-14T20:00:00Z,,tt1,stop,0,0,,,", schema.ViewingEvent{}, "user", "missing"},
		{"too few fields", "2025-03-14T20:00:00Z,alice,tt1,stop", schema.ViewingEvent{}, "", "4 fields, the header has 9"},
		{"a bare quote", `2025-03-14T20:00:00Z,al"ice,tt1,stop,0,0,,,`, schema.ViewingEvent{}, "", "bare \" in non-quoted-field"},
	}
	for _, tt := range tests {
		dec, err := NewViewsCSVDecoder(strings.NewReader(header+tt.row+"\n"), "v.csv")
		if err != nil {
			t.Fatal(err)
		}
		var v schema.ViewingEvent
		var pos Position
		err = dec(&v, &pos)
		if tt.reason != "" {
			var rerr *RecordError
			if !errors.As(err, &rerr) || rerr.Field != tt.field || !strings.Contains(rerr.Reason, tt.reason) || rerr.Pos.Line != 2 {
				t.Errorf("%s: decode(%q) = %v; want a RecordError on line 2, field %q, reason %q", tt.comment, tt.row, err, tt.field, tt.reason)
			}
			continue
		}
		if err != nil || pos.Line != 2 || pos.Offset != int64(len(header)) {
			t.Errorf("%s: decode(%q) = %v at %v; want no error at v.csv:2 (offset %d)", tt.comment, tt.row, err, pos, len(header))
			continue
		}
		if v.Source != "views" || !v.Time.Equal(time.Date(2025, 3, 14, 20, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: decode(%q) Source, Time = %q, %v; want views, 2025-03-14T20:00:00Z", tt.comment, tt.row, v.Source, v.Time)
		}
		tt.want.Source, tt.want.Time = v.Source, v.Time
		if v != tt.want {
			t.Errorf("%s: decode(%q) = %+v; want %+v", tt.comment, tt.row, v, tt.want)
		}
	}
}

func TestParseViewTime(t *testing.T) {
	tests := []struct {
		comment, in string
		want        time.Time // zero when an error is expected
	}{
		{"RFC 3339 in UTC", "2025-03-14T20:00:00Z", time.Date(2025, 3, 14, 20, 0, 0, 0, time.UTC)},
		{"RFC 3339 with offset and fraction", "2025-03-14T21:00:00.25+01:00", time.Date(2025, 3, 14, 20, 0, 0, 250e6, time.UTC)},
		{"epoch milliseconds", "1741982400250", time.Date(2025, 3, 14, 20, 0, 0, 250e6, time.UTC)},
		{"epoch zero is not a time", "0", time.Time{}},
		{"negative milliseconds", "-5", time.Time{}},
		{"epoch seconds as a float", "1741982400.25", time.Time{}},
		{"no zone", "2025-03-14T20:00:00", time.Time{}},
		{"empty", "", time.Time{}},
	}
	for _, tt := range tests {
		got, rerr := parseViewTime(tt.in)
		switch {
		case tt.want.IsZero() && (rerr == nil || rerr.Field != "time"):
			t.Errorf("%s: parseViewTime(%q) = %v, %v; want an error on field time", tt.comment, tt.in, got, rerr)
		case !tt.want.IsZero() && (rerr != nil || !got.Equal(tt.want) || got.Location() != time.UTC):
			t.Errorf("%s: parseViewTime(%q) = %v, %v; want %v in UTC", tt.comment, tt.in, got, rerr, tt.want)
		}
	}
}

func TestViewsJSONLine(t *testing.T) {
	tests := []struct {
		comment string
		line    string
		field   string // of the RecordError; "-" for a good line
	}{
		{"time as a string", `{"time":"2025-03-14T20:00:00Z","user":"a","content":"c","type":"start"}`, "-"},
		{"time as a number of milliseconds", `{"time":1741982400000,"user":"a","content":"c","type":"stop","watched_ms":10}`, "-"},
		{"time as a string of milliseconds", `{"time":"1741982400000","user":"a","content":"c","type":"heartbeat"}`, "-"},
		{"time as a fractional number", `{"time":1741982400000.5,"user":"a","content":"c","type":"start"}`, "time"},
		{"time null", `{"time":null,"user":"a","content":"c","type":"start"}`, "time"},
		{"time an object", `{"time":{},"user":"a","content":"c","type":"start"}`, "time"},
		{"unknown field", `{"time":"2025-03-14T20:00:00Z","user":"a","content":"c","type":"start","rating":5}`, "rating"},
		{"unknown type", `{"time":"2025-03-14T20:00:00Z","user":"a","content":"c","type":"end"}`, "type"},
		{"a number for the user", `{"time":"2025-03-14T20:00:00Z","user":7,"content":"c","type":"start"}`, "user"},
		{"no content", `{"time":"2025-03-14T20:00:00Z","user":"a","type":"start"}`, "content"},
		{"a cut line", `{"time":"2025-03-14T20:00:00Z","user":"a"`, ""},
	}
	for _, tt := range tests {
		var v schema.ViewingEvent
		var pos Position
		err := NewViewsJSONLDecoder(strings.NewReader(tt.line), "v.jsonl")(&v, &pos)
		var rerr *RecordError
		switch {
		case tt.field == "-" && (err != nil || pos.Line != 1 || v.Source != "views"):
			t.Errorf("%s: decode(%s) = %v at %v, source %q; want an event at line 1, source views", tt.comment, tt.line, err, pos, v.Source)
		case tt.field != "-" && (!errors.As(err, &rerr) || rerr.Field != tt.field):
			t.Errorf("%s: decode(%s) = %v; want a RecordError on field %q", tt.comment, tt.line, err, tt.field)
		}
	}
}

// TestViewsCSVUnclosedQuote checks that a quote never closed does not make
// the CSV reader buffer the rest of the file.
func TestViewsCSVUnclosedQuote(t *testing.T) {
	in := io.MultiReader(
		strings.NewReader("time,user,content,type\n2025-03-14T20:00:00Z,\"alice,tt1,start\n"),
		io.LimitReader(repeatReader('x'), 4*MaxLine),
	)
	dec, err := NewViewsCSVDecoder(in, "q.csv")
	if err != nil {
		t.Fatal(err)
	}
	var v schema.ViewingEvent
	if err := dec(&v, nil); !errors.Is(err, errViewRecordTooLong) || !strings.HasPrefix(err.Error(), "q.csv") {
		t.Errorf("decode(an unclosed quote) = %v; want errViewRecordTooLong naming q.csv", err)
	}
}

func FuzzViewsCSV(f *testing.F) {
	addSeeds(f, "testdata/views/*.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeViewsCSV(t, data, "fuzz.csv")
	})
}

func FuzzViewsJSONL(f *testing.F) {
	addSeeds(f, "testdata/views/*.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range decodeViewsJSONL(t, data, "fuzz.jsonl") {
			if r.Fatal != "" {
				t.Errorf("fatal error %s; want none from an in-memory reader", r.Fatal)
			}
		}
	})
}
