package eventlog

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/surge-replay/surge/schema"
)

// TestColumnarRequestLineMatchesRowReader reads the replay projection with
// the columnar reader and the full events with parquet-go's row reader, and
// checks every row agrees, across pages and row groups, with empty, single
// and long header lists.
func TestColumnarRequestLineMatchesRowReader(t *testing.T) {
	evs := exchanges(20000)
	for i := range evs {
		if i%3 == 0 {
			// Class rules match on protocol ("protocol=HTTP/2"): the
			// projection carries it.
			evs[i].Protocol = schema.ProtoHTTP2
		}
		switch {
		case i%7 == 0:
			evs[i].Headers = nil // an empty list
		case i%5 == 0:
			evs[i].Headers = evs[i].Headers[:1]
		case i%11 == 0:
			for k := 0; k < 40; k++ {
				evs[i].Headers = append(evs[i].Headers, schema.Header{Name: fmt.Sprintf("X-H%d", k), Value: fmt.Sprint(i * k)})
			}
		}
	}
	path := filepath.Join(t.TempDir(), "x.parquet")
	writeFile(t, path, WriterConfig{RowGroupRows: 3000}, evs)
	lines, _ := readAll[schema.RequestLine](t, []string{path}, Range{})
	full, _ := readAll[schema.Exchange](t, []string{path}, Range{})
	if len(lines) != len(evs) || len(full) != len(evs) {
		t.Fatalf("read %d and %d rows; want %d", len(lines), len(full), len(evs))
	}
	for i, l := range lines {
		e := full[i]
		want := schema.RequestLine{Time: e.Time, Session: e.Session, User: e.User, Seq: e.Seq, Method: e.Method,
			Scheme: e.Scheme, Host: e.Host, Path: e.Path, Query: e.Query, Headers: e.Headers, Body: e.Body,
			Region: e.Region, Device: e.Device, Protocol: e.Protocol, Status: int32(e.StatusCode()),
			BodySize: e.BodySize, BodyTruncated: e.BodyTruncated, LatencyNS: e.LatencyNS}
		if len(want.Headers) == 0 {
			want.Headers = nil
		}
		if len(want.Body) == 0 {
			want.Body = nil
		}
		if len(l.Headers) == 0 {
			l.Headers = nil
		}
		if !reflect.DeepEqual(l, want) {
			t.Fatalf("row %d:\n columnar %+v\n rows     %+v", i, l, want)
		}
	}
}
