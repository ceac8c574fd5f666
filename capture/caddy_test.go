package capture

import (
	"testing"
	"time"
)

func TestCaddyGolden(t *testing.T) {
	testGoldenFiles(t, "testdata/caddy/*.log", decodeWith(NewCaddyDecoder))
}

func TestCaddyTruncations(t *testing.T) {
	testTruncations(t, "testdata/caddy/*.log", decodeWith(NewCaddyDecoder), nil)
}

func TestCaddyErrorsAreShort(t *testing.T) {
	testNoRawLines(t, "testdata/caddy/access.log", NewCaddyDecoder)
}

// TestCaddyTimes: ts is when Caddy wrote the entry, at the end; the start is
// ts minus duration, in either of Caddy's notations.
func TestCaddyTimes(t *testing.T) {
	tests := []struct {
		name, ts, duration string
	}{
		// Caddy's defaults: epoch seconds and seconds.
		{"defaults", `1795291201.75`, `0.25`},
		// time_format rfc3339, duration_format string.
		{"strings", `"2026-11-21T20:00:01.75Z"`, `"250ms"`},
		// A float in exponent notation.
		{"exponent", `1.79529120175e9`, `2.5e-1`},
	}
	want := time.Date(2026, 11, 21, 20, 0, 1, 500e6, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := `{"ts":` + tt.ts + `,"request":{"method":"GET","host":"h","uri":"/"},"duration":` + tt.duration + `,"status":200}`
			got := decodeWith(NewCaddyDecoder)(t, []byte(line), "c.log")
			if len(got) != 1 || got[0].Exchange == nil {
				t.Fatalf("decode = %+v; want one hit", got)
			}
			e := got[0].Exchange
			if d := e.Time.Sub(want); d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("Time = %v; want %v", e.Time, want)
			}
			if l, _ := e.Latency(); l != 250*time.Millisecond {
				t.Errorf("latency = %v; want 250ms", l)
			}
		})
	}
}

func FuzzCaddyDecode(f *testing.F) {
	addSeeds(f, "testdata/caddy/*.log")
	addUnseenSeeds(f, "caddy")
	f.Add([]byte(`{"ts":1e300,"request":{"method":"GET","uri":"*","tls":null,"headers":{"A":["x\ny"]}},"duration":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecoder(t, NewCaddyDecoder, data) })
}

func BenchmarkCaddyDecode(b *testing.B) {
	benchDecoder(b, "testdata/caddy/access.log", NewCaddyDecoder)
}
