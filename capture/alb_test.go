package capture

import (
	"testing"
	"time"
)

func TestALBGolden(t *testing.T) {
	testGoldenFiles(t, "testdata/alb/*.log", decodeWith(NewALBDecoder))
}

func TestALBTruncations(t *testing.T) {
	testTruncations(t, "testdata/alb/*.log", decodeWith(NewALBDecoder), nil)
}

func TestALBErrorsAreShort(t *testing.T) {
	testNoRawLines(t, "testdata/alb/access.log", NewALBDecoder)
}

// TestALBTimes checks the documented meaning of the times of one entry.
func TestALBTimes(t *testing.T) {
	line := `https 2026-11-21T20:00:02.186641Z app/lb/50dc 198.51.100.7:40211 10.0.0.1:80 0.086 0.048 0.037 200 200 712 5791 "GET https://api.example.com:443/v1/x?a=1 HTTP/1.1" "curl/8" - - arn "Root=1" "-" "-" 1 2026-11-21T20:00:02.015000Z "forward" "-" "-"`
	got := decodeWith(NewALBDecoder)(t, []byte(line), "a.log")
	if len(got) != 1 || got[0].Exchange == nil {
		t.Fatalf("decode = %+v; want one hit", got)
	}
	e := got[0].Exchange
	if want := time.Date(2026, 11, 21, 20, 0, 2, 15e6, time.UTC); !e.Time.Equal(want) {
		t.Errorf("Time = %v; want request_creation_time %v", e.Time, want)
	}
	if l, _ := e.Latency(); l != 171*time.Millisecond {
		t.Errorf("latency = %v; want 86+48+37 ms", l)
	}
	if e.Host != "api.example.com" || e.Scheme != "https" || e.Path != "/v1/x" || e.Query != "a=1" {
		t.Errorf("target = %s://%s%s?%s", e.Scheme, e.Host, e.Path, e.Query)
	}
}

func FuzzALBDecode(f *testing.F) {
	addSeeds(f, "testdata/alb/*.log")
	addUnseenSeeds(f, "alb")
	f.Add([]byte(`h2 2026-11-21T20:00:03Z x 1:2 - -1 0.1 0.2 0 - 0 0 "GET * HTTP/2.0" "\" " - - - "" "-" "-" 1 2026-11-21T20:00:03Z`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecoder(t, NewALBDecoder, data) })
}

func BenchmarkALBDecode(b *testing.B) { benchDecoder(b, "testdata/alb/access.log", NewALBDecoder) }
