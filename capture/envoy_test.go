package capture

import (
	"testing"
	"time"
)

func TestEnvoyGolden(t *testing.T) {
	testGoldenFiles(t, "testdata/envoy/*.log", decodeWith(NewEnvoyDecoder))
}

func TestEnvoyTruncations(t *testing.T) {
	testTruncations(t, "testdata/envoy/*.log", decodeWith(NewEnvoyDecoder), nil)
}

func TestEnvoyErrorsAreShort(t *testing.T) {
	testNoRawLines(t, "testdata/envoy/access.log", NewEnvoyDecoder)
}

// TestEnvoyForms: the text and the JSON form of one request decode alike.
func TestEnvoyForms(t *testing.T) {
	text := `[2026-11-21T20:00:01.310Z] "GET /a?b=1 HTTP/2" 200 - 0 2451 12 11 "198.51.100.7" "curl/8" "id" "api.example.com" "192.0.2.17:8080"`
	js := `{"start_time":"2026-11-21T20:00:01.310Z","method":"GET","path":"/a?b=1","protocol":"HTTP/2","response_code":200,"bytes_sent":"2451","duration":12,"x_forwarded_for":"198.51.100.7","user_agent":"curl/8","authority":"api.example.com"}`
	a := decodeWith(NewEnvoyDecoder)(t, []byte(text), "a.log")
	b := decodeWith(NewEnvoyDecoder)(t, []byte(js), "a.log")
	if len(a) != 1 || len(b) != 1 || a[0].Exchange == nil || b[0].Exchange == nil {
		t.Fatalf("decode = %+v and %+v; want one hit each", a, b)
	}
	if got, want := string(resultLines(t, b)), string(resultLines(t, a)); got != want {
		t.Errorf("JSON form decodes to\n%s; text form to\n%s", got, want)
	}
	e := a[0].Exchange
	if want := time.Date(2026, 11, 21, 20, 0, 1, 310e6, time.UTC); !e.Time.Equal(want) {
		t.Errorf("Time = %v; want START_TIME %v", e.Time, want)
	}
	if l, _ := e.Latency(); l != 12*time.Millisecond || a[0].Client != "198.51.100.7" || e.Query != "b=1" {
		t.Errorf("latency %v, client %q, query %q", l, a[0].Client, e.Query)
	}
}

func FuzzEnvoyDecode(f *testing.F) {
	addSeeds(f, "testdata/envoy/*.log")
	addUnseenSeeds(f, "envoy")
	f.Add([]byte(`{"start_time":"2026-11-21T20:00:05Z","method":"GET","path":"*","duration":1.5e3}` + "\n[x] \"\\\" \" 0 a b"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecoder(t, NewEnvoyDecoder, data) })
}

func BenchmarkEnvoyDecode(b *testing.B) {
	benchDecoder(b, "testdata/envoy/access.log", NewEnvoyDecoder)
}
