package eventlog

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// TestRequestsRange: a long-lived connection (a WebSocket whose start lies
// hours before the requests around it) is left out of RequestsFirst and
// RequestsLast, which Stat reads back; a file without one has them equal
// to First and Last, and no extra metadata.
func TestRequestsRange(t *testing.T) {
	evs := exchanges(10) // t0 .. t0+9ms
	ws := evs[0]
	ws.Time = t0.Add(-6 * time.Hour)
	ws.ConnectionNS = schema.Int64(int64(6 * time.Hour))
	dir := t.TempDir()
	tests := []struct {
		name              string
		evs               []schema.Exchange
		first, last       time.Time // want First, Last
		reqFirst, reqLast time.Time // want RequestsFirst, RequestsLast
		meta              bool      // want the requests keys written
	}{
		// Requests only: the ranges are one.
		{"plain", evs, t0, t0.Add(9 * time.Millisecond), t0, t0.Add(9 * time.Millisecond), false},
		// A WebSocket opened six hours before: First has it, RequestsFirst not.
		{"websocket", append([]schema.Exchange{ws}, evs...), ws.Time, t0.Add(9 * time.Millisecond), t0, t0.Add(9 * time.Millisecond), true},
		// Only long-lived connections: no requests range, so First and Last.
		{"only", []schema.Exchange{ws}, ws.Time, ws.Time, ws.Time, ws.Time, false},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name+".parquet")
		writeFile(t, path, WriterConfig{Source: "test"}, tt.evs)
		info, err := Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if !info.First.Equal(tt.first) || !info.Last.Equal(tt.last) {
			t.Errorf("%s: First, Last = %s, %s; want %s, %s", tt.name, info.First, info.Last, tt.first, tt.last)
		}
		if !info.RequestsFirst.Equal(tt.reqFirst) || !info.RequestsLast.Equal(tt.reqLast) {
			t.Errorf("%s: RequestsFirst, RequestsLast = %s, %s; want %s, %s", tt.name, info.RequestsFirst, info.RequestsLast, tt.reqFirst, tt.reqLast)
		}
		if _, ok := info.Metadata[schema.MetaRequestsFirst]; ok != tt.meta {
			t.Errorf("%s: metadata %s present = %v; want %v", tt.name, schema.MetaRequestsFirst, ok, tt.meta)
		}
	}
}
