package kafkalog

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/surge-replay/surge/schema"
)

// The encodings a capture record could use, compared on the same events
// (docs/KAFKA.md, "Why this encoding"): surge's binary layout, JSON,
// protobuf (the same 21 fields, hand-encoded with protowire as generated
// code would) and Arrow IPC (one record batch of arrowBatch events per
// Kafka record, a stream with its schema).
const arrowBatch = 512

// encEvents are access-log-shaped events (about 250 bytes in binary).
func encEvents(n int) []schema.Exchange {
	evs := make([]schema.Exchange, n)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range evs {
		s := i % 2000
		evs[i] = schema.Exchange{
			Time: base.Add(time.Duration(i) * 100 * time.Microsecond), Session: fmt.Sprintf("s_%016x", s*7919),
			User: fmt.Sprintf("u_%016x", s*104729), Seq: int32(i / 2000), Method: "GET", Scheme: "https",
			Host: "api.example.com", Path: fmt.Sprintf("/api/v1/catalog/items/%d", i%5000), Query: "page=1&lang=en",
			Headers: []schema.Header{{Name: "User-Agent", Value: "StreamCo/9.2.0 (Android 16; SM-S931B) okhttp/4.12.0"}},
			Status:  schema.Int32(200), ResponseBytes: schema.Int64(int64(1000 + i%20000)), LatencyNS: schema.Int64(int64(i % 90e6)),
			Device: "mobile", Protocol: schema.ProtoHTTP2, Source: "combined",
		}
	}
	return evs
}

// codecCase encodes a slice of events into Kafka record values and decodes
// a value back into events.
type codecCase struct {
	name   string
	encode func(dst [][]byte, evs []schema.Exchange) [][]byte
	decode func(v []byte, out []schema.Exchange) (int, error)
}

func perEvent(enc func([]byte, *schema.Exchange) []byte, dec func([]byte, *schema.Exchange) error) (func([][]byte, []schema.Exchange) [][]byte, func([]byte, []schema.Exchange) (int, error)) {
	return func(dst [][]byte, evs []schema.Exchange) [][]byte {
			for i := range evs {
				dst = append(dst, enc(nil, &evs[i]))
			}
			return dst
		}, func(v []byte, out []schema.Exchange) (int, error) {
			return 1, dec(v, &out[0])
		}
}

func codecCases() []codecCase {
	var cs []codecCase
	be, bd := perEvent(AppendBinary, DecodeBinary)
	cs = append(cs, codecCase{"binary", be, bd})
	jhs := Headers(JSON, "")
	je, jd := perEvent(func(dst []byte, e *schema.Exchange) []byte { b, _ := Encode(dst, JSON, e); return b },
		func(v []byte, e *schema.Exchange) error { return Decode(jhs, v, e) })
	cs = append(cs, codecCase{"json", je, jd})
	pe, pd := perEvent(appendProto, decodeProto)
	cs = append(cs, codecCase{"protobuf", pe, pd})
	cs = append(cs, codecCase{"arrow-ipc", encodeArrow, decodeArrow})
	return cs
}

// BenchmarkEncoding measures, per encoding, encode and decode speed per
// event on one goroutine and the size of an event in a record value, raw
// and in a zstd-compressed batch of 5,000 (as the Writer's batches are).
//
//	go test -run '^$' -bench Encoding -cpu 1 ./eventlog/kafkalog
func BenchmarkEncoding(b *testing.B) {
	const n = 5000
	evs := encEvents(n)
	zw, _ := zstd.NewWriter(nil)
	for _, c := range codecCases() {
		vals := c.encode(nil, evs)
		var raw []byte
		for _, v := range vals {
			raw = append(raw, v...)
		}
		zsize := len(zw.EncodeAll(raw, nil))
		b.Run(c.name+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			dst := make([][]byte, 0, n)
			for b.Loop() {
				dst = c.encode(dst[:0], evs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(len(raw))/n, "B/event")
			b.ReportMetric(float64(zsize)/n, "zstd-B/event")
		})
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			out := make([]schema.Exchange, arrowBatch)
			for b.Loop() {
				got := 0
				for _, v := range vals {
					k, err := c.decode(v, out)
					if err != nil {
						b.Fatal(err)
					}
					got += k
				}
				if got != n {
					b.Fatalf("decoded %d events; want %d", got, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// TestEncodingCandidatesRoundTrip keeps the benchmark honest: every
// candidate decodes what it encoded to the same events.
func TestEncodingCandidatesRoundTrip(t *testing.T) {
	evs := encEvents(arrowBatch + 7)
	for _, c := range codecCases() {
		vals := c.encode(nil, evs)
		var got []schema.Exchange
		for _, v := range vals {
			out := make([]schema.Exchange, arrowBatch) // decoders reuse what out holds
			k, err := c.decode(v, out)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			got = append(got, out[:k]...)
		}
		if len(got) != len(evs) {
			t.Fatalf("%s: %d events back; want %d", c.name, len(got), len(evs))
		}
		for i := range evs {
			a, b := evs[i], got[i]
			if !a.Time.Equal(b.Time) || a.Session != b.Session || a.Path != b.Path || a.Headers[0] != b.Headers[0] ||
				*a.Status != *b.Status || *a.LatencyNS != *b.LatencyNS || a.Seq != b.Seq || a.Source != b.Source {
				t.Fatalf("%s: event %d = %+v; want %+v", c.name, i, b, a)
			}
		}
	}
}

// appendProto encodes e as a protobuf message with fields 1–21 in the
// order of the binary layout (time as sint64 ns, headers as a repeated
// message of name 1, value 2; optional numbers present when set).
func appendProto(b []byte, e *schema.Exchange) []byte {
	str := func(n protowire.Number, s string) {
		if s != "" {
			b = protowire.AppendTag(b, n, protowire.BytesType)
			b = protowire.AppendString(b, s)
		}
	}
	num := func(n protowire.Number, v uint64) {
		if v != 0 {
			b = protowire.AppendTag(b, n, protowire.VarintType)
			b = protowire.AppendVarint(b, v)
		}
	}
	num(1, protowire.EncodeZigZag(e.Time.UnixNano()))
	str(2, e.Session)
	str(3, e.User)
	num(4, uint64(e.Seq))
	str(5, e.Method)
	str(6, e.Scheme)
	str(7, e.Host)
	str(8, e.Path)
	str(9, e.Query)
	for _, h := range e.Headers {
		b = protowire.AppendTag(b, 10, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(protowire.SizeTag(1)*2+protowire.SizeBytes(len(h.Name))+protowire.SizeBytes(len(h.Value))))
		str(1, h.Name)
		str(2, h.Value)
	}
	if len(e.Body) > 0 {
		b = protowire.AppendTag(b, 11, protowire.BytesType)
		b = protowire.AppendBytes(b, e.Body)
	}
	num(12, uint64(e.BodySize))
	if e.BodyTruncated {
		num(13, 1)
	}
	opt := func(n protowire.Number, v *int64) {
		if v != nil {
			b = protowire.AppendTag(b, n, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(*v))
		}
	}
	if e.Status != nil {
		s := int64(*e.Status)
		opt(14, &s)
	}
	opt(15, e.ResponseBytes)
	opt(16, e.LatencyNS)
	str(17, e.Region)
	str(18, e.Device)
	str(19, e.Protocol)
	str(20, e.Source)
	opt(21, e.ConnectionNS)
	return b
}

// decodeProto decodes appendProto's message, copying each string as
// generated code does.
func decodeProto(b []byte, e *schema.Exchange) error {
	*e = schema.Exchange{Headers: e.Headers[:0]}
	for len(b) > 0 {
		n, typ, k := protowire.ConsumeTag(b)
		if k < 0 {
			return protowire.ParseError(k)
		}
		b = b[k:]
		if typ == protowire.VarintType {
			v, k := protowire.ConsumeVarint(b)
			if k < 0 {
				return protowire.ParseError(k)
			}
			b = b[k:]
			switch n {
			case 1:
				e.Time = time.Unix(0, protowire.DecodeZigZag(v)).UTC()
			case 4:
				e.Seq = int32(v)
			case 12:
				e.BodySize = int64(v)
			case 13:
				e.BodyTruncated = v != 0
			case 14:
				e.Status = schema.Int32(int32(v))
			case 15:
				e.ResponseBytes = schema.Int64(int64(v))
			case 16:
				e.LatencyNS = schema.Int64(int64(v))
			case 21:
				e.ConnectionNS = schema.Int64(int64(v))
			}
			continue
		}
		v, k := protowire.ConsumeBytes(b)
		if k < 0 {
			return protowire.ParseError(k)
		}
		b = b[k:]
		switch n {
		case 2:
			e.Session = string(v)
		case 3:
			e.User = string(v)
		case 5:
			e.Method = string(v)
		case 6:
			e.Scheme = string(v)
		case 7:
			e.Host = string(v)
		case 8:
			e.Path = string(v)
		case 9:
			e.Query = string(v)
		case 10:
			var h schema.Header
			for len(v) > 0 {
				hn, _, k := protowire.ConsumeTag(v)
				s, k2 := protowire.ConsumeBytes(v[k:])
				if k < 0 || k2 < 0 {
					return fmt.Errorf("protobuf: bad header")
				}
				v = v[k+k2:]
				if hn == 1 {
					h.Name = string(s)
				} else {
					h.Value = string(s)
				}
			}
			e.Headers = append(e.Headers, h)
		case 11:
			e.Body = append([]byte(nil), v...)
		case 17:
			e.Region = string(v)
		case 18:
			e.Device = string(v)
		case 19:
			e.Protocol = string(v)
		case 20:
			e.Source = string(v)
		}
	}
	return nil
}

// encodeArrow writes arrowBatch events per value: an Arrow IPC stream of
// schema.ExchangeArrow with one record batch.
func encodeArrow(dst [][]byte, evs []schema.Exchange) [][]byte {
	mem := memory.DefaultAllocator
	rb := array.NewRecordBuilder(mem, schema.ExchangeArrow)
	defer rb.Release()
	for start := 0; start < len(evs); start += arrowBatch {
		end := min(start+arrowBatch, len(evs))
		for i := start; i < end; i++ {
			e := &evs[i]
			rb.Field(0).(*array.TimestampBuilder).Append(arrow.Timestamp(e.Time.UnixNano()))
			for j, s := range []string{e.Session, e.User} {
				rb.Field(1 + j).(*array.StringBuilder).Append(s)
			}
			rb.Field(3).(*array.Int32Builder).Append(e.Seq)
			for j, s := range []string{e.Method, e.Scheme, e.Host, e.Path, e.Query} {
				rb.Field(4 + j).(*array.StringBuilder).Append(s)
			}
			lb := rb.Field(9).(*array.ListBuilder)
			lb.Append(true)
			sb := lb.ValueBuilder().(*array.StructBuilder)
			for _, h := range e.Headers {
				sb.Append(true)
				sb.FieldBuilder(0).(*array.StringBuilder).Append(h.Name)
				sb.FieldBuilder(1).(*array.StringBuilder).Append(h.Value)
			}
			rb.Field(10).(*array.BinaryBuilder).Append(e.Body)
			rb.Field(11).(*array.Int64Builder).Append(e.BodySize)
			rb.Field(12).(*array.BooleanBuilder).Append(e.BodyTruncated)
			if e.Status != nil {
				rb.Field(13).(*array.Int32Builder).Append(*e.Status)
			} else {
				rb.Field(13).AppendNull()
			}
			for j, v := range []*int64{e.ResponseBytes, e.LatencyNS} {
				if v != nil {
					rb.Field(14 + j).(*array.Int64Builder).Append(*v)
				} else {
					rb.Field(14 + j).AppendNull()
				}
			}
			for j, s := range []string{e.Region, e.Device, e.Protocol, e.Source} {
				rb.Field(16 + j).(*array.StringBuilder).Append(s)
			}
			if e.ConnectionNS != nil {
				rb.Field(20).(*array.Int64Builder).Append(*e.ConnectionNS)
			} else {
				rb.Field(20).AppendNull()
			}
		}
		rec := rb.NewRecordBatch()
		var buf bytes.Buffer
		w := ipc.NewWriter(&buf, ipc.WithSchema(schema.ExchangeArrow), ipc.WithAllocator(mem))
		if err := w.Write(rec); err != nil {
			panic(err)
		}
		w.Close()
		rec.Release()
		dst = append(dst, buf.Bytes())
	}
	return dst
}

// decodeArrow reads one value of encodeArrow into out (len ≥ arrowBatch):
// the columns back into schema.Exchange, strings pointing into the value.
func decodeArrow(v []byte, out []schema.Exchange) (int, error) {
	r, err := ipc.NewReader(bytes.NewReader(v), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return 0, err
	}
	defer r.Release()
	if !r.Next() {
		return 0, fmt.Errorf("arrow: no record batch: %v", r.Err())
	}
	rec := r.RecordBatch()
	n := int(rec.NumRows())
	col := func(i int) *array.String { return rec.Column(i).(*array.String) }
	ts := rec.Column(0).(*array.Timestamp)
	seq := rec.Column(3).(*array.Int32)
	hl := rec.Column(9).(*array.List)
	hs := hl.ListValues().(*array.Struct)
	hn, hv := hs.Field(0).(*array.String), hs.Field(1).(*array.String)
	body := rec.Column(10).(*array.Binary)
	bsize := rec.Column(11).(*array.Int64)
	trunc := rec.Column(12).(*array.Boolean)
	status := rec.Column(13).(*array.Int32)
	i64 := func(c int, i int) *int64 {
		a := rec.Column(c).(*array.Int64)
		if a.IsNull(i) {
			return nil
		}
		return schema.Int64(a.Value(i))
	}
	for i := 0; i < n; i++ {
		e := &out[i]
		*e = schema.Exchange{
			Time: time.Unix(0, int64(ts.Value(i))).UTC(), Session: col(1).Value(i), User: col(2).Value(i), Seq: seq.Value(i),
			Method: col(4).Value(i), Scheme: col(5).Value(i), Host: col(6).Value(i), Path: col(7).Value(i), Query: col(8).Value(i),
			BodySize: bsize.Value(i), BodyTruncated: trunc.Value(i),
			ResponseBytes: i64(14, i), LatencyNS: i64(15, i), ConnectionNS: i64(20, i),
			Region: col(16).Value(i), Device: col(17).Value(i), Protocol: col(18).Value(i), Source: col(19).Value(i),
			Headers: e.Headers[:0],
		}
		if b := body.Value(i); len(b) > 0 {
			e.Body = b
		}
		if !status.IsNull(i) {
			e.Status = schema.Int32(status.Value(i))
		}
		from, to := hl.ValueOffsets(i)
		for j := from; j < to; j++ {
			e.Headers = append(e.Headers, schema.Header{Name: hn.Value(int(j)), Value: hv.Value(int(j))})
		}
	}
	return n, nil
}
