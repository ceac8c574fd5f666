package kafkalog

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/schema"
)

func sample() schema.Exchange {
	return schema.Exchange{
		Time: time.Date(2026, 11, 21, 20, 15, 3, 123456789, time.UTC), Session: "s-42", User: "u:9f2c",
		Seq: 7, Method: "POST", Scheme: "https", Host: "api.example.com", Path: "/v1/play",
		Query: "id=3&q=%20", Headers: []schema.Header{{Name: "Accept", Value: "*/*"}, {Name: "X-A", Value: ""}},
		Body: []byte(`{"a":1}`), BodySize: 70000, BodyTruncated: true,
		Status: schema.Int32(201), ResponseBytes: schema.Int64(512), LatencyNS: schema.Int64(-1), ConnectionNS: schema.Int64(9e9),
		Region: "eu-west", Device: "tv", Protocol: schema.ProtoHTTP11, Source: "combined",
	}
}

func TestRoundTrip(t *testing.T) {
	full := sample()
	tests := []struct {
		name string
		e    schema.Exchange
	}{
		{"every field set", full}, // all optional facts present
		{"zero exchange", schema.Exchange{Time: time.Unix(0, 0).UTC()}},    // empty strings, nil options
		{"no response facts", schema.Exchange{Time: full.Time, Path: "/"}}, // flags byte zero
	}
	for _, tt := range tests {
		for _, f := range []Format{Binary, JSON} {
			v, err := Encode(nil, f, &tt.e)
			if err != nil {
				t.Fatal(err)
			}
			var got schema.Exchange
			if err := Decode(Headers(f, "x"), v, &got); err != nil {
				t.Fatalf("%s/%s: Decode = %v", tt.name, f, err)
			}
			if !reflect.DeepEqual(got, tt.e) {
				t.Errorf("%s/%s: Decode(Encode(e)) = %+v; want %+v", tt.name, f, got, tt.e)
			}
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	e := sample()
	v := AppendBinary(nil, &e)
	hdr := func(ver, ct string) []kafka.Header {
		return []kafka.Header{{Key: HeaderVersion, Value: []byte(ver)}, {Key: HeaderContentType, Value: []byte(ct)}}
	}
	var ve *schema.VersionError
	var de *DecodeError
	tests := []struct {
		name  string
		hs    []kafka.Header
		value []byte
		is    func(error) bool
	}{
		// an unknown major version is refused, not guessed at
		{"major 2", hdr("2.0", ContentBinary), v, func(err error) bool { return errors.As(err, &ve) }},
		// a record without surge headers is not ours
		{"no headers", nil, v, func(err error) bool { return errors.Is(err, ErrNoVersion) }},
		// an unknown content type
		{"avro", hdr("1.0", "avro/binary"), v, func(err error) bool { return errors.Is(err, ErrContentType) }},
		// a cut value names the field and offset
		{"truncated", hdr("1.0", ContentBinary), v[:len(v)-3], func(err error) bool { return errors.As(err, &de) && errors.Is(err, ErrTruncated) }},
		// bytes after the last field
		{"trailing", hdr("1.1", ContentBinary), append(append([]byte{}, v...), 0), func(err error) bool { return errors.Is(err, ErrTrailing) }},
		// JSON that is not an exchange
		{"bad json", hdr("1.0", ContentJSON), []byte(`{"time":1`), func(err error) bool { return err != nil }},
	}
	for _, tt := range tests {
		var got schema.Exchange
		err := Decode(tt.hs, tt.value, &got)
		if err == nil || !tt.is(err) {
			t.Errorf("%s: Decode = %v; want the documented error", tt.name, err)
		}
	}
}

// FuzzDecodeBinary: no input panics or allocates without bound, and what
// decodes re-encodes to the same bytes.
func FuzzDecodeBinary(f *testing.F) {
	e := sample()
	f.Add(AppendBinary(nil, &e))
	z := schema.Exchange{}
	f.Add(AppendBinary(nil, &z))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got schema.Exchange
		if err := DecodeBinary(b, &got); err != nil {
			return
		}
		if again := AppendBinary(nil, &got); string(again) != string(b) {
			// Non-minimal varints decode but re-encode shorter; only check
			// that the re-encoding decodes to the same exchange.
			var back schema.Exchange
			if err := DecodeBinary(again, &back); err != nil || !reflect.DeepEqual(back, got) {
				t.Fatalf("re-encoding does not round trip: %v", err)
			}
		}
	})
}

func BenchmarkDecodeBinary(b *testing.B) {
	e := sample()
	v := AppendBinary(nil, &e)
	b.ReportAllocs()
	b.SetBytes(int64(len(v)))
	var got schema.Exchange
	for b.Loop() {
		if err := DecodeBinary(v, &got); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	e := sample()
	hs := Headers(JSON, "")
	v, _ := Encode(nil, JSON, &e)
	b.ReportAllocs()
	b.SetBytes(int64(len(v)))
	var got schema.Exchange
	for b.Loop() {
		if err := Decode(hs, v, &got); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeBinary(b *testing.B) {
	e := sample()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendBinary(buf[:0], &e)
	}
}

// TestHeadersForms: what each format writes, and that a reader takes both
// the two-header binary records and those written before with all four.
func TestHeadersForms(t *testing.T) {
	e := sample()
	v, _ := Encode(nil, Binary, &e)
	legacy := []kafka.Header{ // what a 1.1 producer wrote before the two-header form
		{Key: HeaderVersion, Value: []byte("1.1")},
		{Key: HeaderContentType, Value: []byte(ContentBinary)},
		{Key: HeaderKind, Value: []byte(schema.KindExchange)},
		{Key: HeaderSource, Value: []byte("combined")},
	}
	tests := []struct {
		name string
		hs   []kafka.Header
		keys []string
	}{
		{"binary: version and content type only", Headers(Binary, "combined"), []string{HeaderVersion, HeaderContentType}},
		{"json: kind and source for third parties", Headers(JSON, "combined"), []string{HeaderVersion, HeaderContentType, HeaderKind, HeaderSource}},
		{"json without source", Headers(JSON, ""), []string{HeaderVersion, HeaderContentType, HeaderKind}},
		{"binary written with four headers (1.1 before)", legacy, []string{HeaderVersion, HeaderContentType, HeaderKind, HeaderSource}},
	}
	for _, tt := range tests {
		var keys []string
		for _, h := range tt.hs {
			keys = append(keys, h.Key)
		}
		if !reflect.DeepEqual(keys, tt.keys) {
			t.Errorf("%s: header keys = %q; want %q", tt.name, keys, tt.keys)
		}
		if string(tt.hs[1].Value) != ContentBinary {
			continue
		}
		var got schema.Exchange
		if err := Decode(tt.hs, v, &got); err != nil {
			t.Errorf("%s: Decode = %v", tt.name, err)
		} else if !reflect.DeepEqual(got, e) {
			t.Errorf("%s: Decode = %+v; want %+v", tt.name, got, e)
		}
	}
}
