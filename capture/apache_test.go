package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// apacheFormatOf reads the LogFormat of a test log: NAME.format beside
// NAME.log, or the combined nickname when there is none.
func apacheFormatOf(t testing.TB, logPath string) string {
	b, err := os.ReadFile(strings.TrimSuffix(logPath, ".log") + ".format")
	if errors.Is(err, os.ErrNotExist) {
		return "combined"
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func decodeApache(t testing.TB, data []byte, name string) []decodeResult {
	dec, err := NewApacheDecoder(bytes.NewReader(data), name, apacheFormatOf(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return drainHits(t, withHost(dec), name, len(data))
}

func TestApacheGolden(t *testing.T) {
	testGoldenFiles(t, "testdata/apache/*.log", decodeApache)
}

func TestApacheTruncations(t *testing.T) {
	testTruncations(t, "testdata/apache/*.log", decodeApache, nil)
}

func TestApacheErrorsAreShort(t *testing.T) {
	for _, name := range []string{"combined", "custom"} {
		path := "testdata/apache/" + name + ".log"
		format := apacheFormatOf(t, path)
		testNoRawLines(t, path, func(r io.Reader, n string) Decoder {
			dec, err := NewApacheDecoder(r, n, format)
			if err != nil {
				t.Fatal(err)
			}
			return dec
		})
	}
}

// TestApacheTimes: %t is when the request was received, %{end:...}t when
// the log was written.
func TestApacheTimes(t *testing.T) {
	start := time.Date(2026, 11, 21, 20, 0, 1, 0, time.UTC)
	tests := []struct {
		name, format, line string
		want               time.Time
	}{
		// %t is the start: the latency is not subtracted.
		{"t", `%t "%r" %D`, `[21/Nov/2026:20:00:01 +0000] "GET / HTTP/1.1" 250000`, start},
		// begin: is the default.
		{"begin", `%{begin:%Y-%m-%dT%H:%M:%S}t "%r" %{ms}T`, `2026-11-21T20:00:01 "GET / HTTP/1.1" 250`, start},
		// end: is the log time: the start is 250 ms before.
		{"end", `%{end:sec}t.%{end:msec_frac}t "%r" %{ms}T`, `1795291201.250 "GET / HTTP/1.1" 250`, start},
		// Seconds since the epoch, with %T in whole seconds.
		{"sec", `%{sec}t "%r" %T`, `1795291201 "GET / HTTP/1.1" 0`, start},
		// The documented example of a time in parts, with a zone.
		{"parts", `[%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t] "%r"`, `[21/Nov/2026 21:00:01.000 +0100] "GET / HTTP/1.1"`, start},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec, err := NewApacheDecoder(strings.NewReader(tt.line), "a.log", tt.format)
			if err != nil {
				t.Fatal(err)
			}
			var h Hit
			if err := dec(&h); err != nil {
				t.Fatal(err)
			}
			if !h.Exchange.Time.Equal(tt.want) {
				t.Errorf("Time = %v; want %v", h.Exchange.Time, tt.want)
			}
		})
	}
}

func TestApacheFormatErrors(t *testing.T) {
	tests := []struct {
		name, format, want string
	}{
		// Nothing to read.
		{"empty", "  ", "empty format"},
		// A time and a request are needed.
		{"no time", `%h "%r"`, "no time directive"},
		{"no request", `%h %t`, "no request directive"},
		// Directives must be apart.
		{"adjacent", `%t "%r" %>s%b`, "%b follows %>s"},
		// Bad directive syntax.
		{"brace", `%t "%r" %{Referer`, "without a closing }"},
		{"letter", `%t "%r" %{x}1`, "is not a directive letter"},
		{"dangling", `%t "%r" %`, "at the end of the format"},
		{"header name", `%t "%r" %i`, "needs a header name"},
		// Times that do not make one time.
		{"two times", `%t %{sec}t "%r"`, "more than one time"},
		{"mixed phases", `%{%Y-%m-%d %H}t %{end:%M}t "%r"`, "mix begin: and end:"},
		{"unknown strftime", `%{%c}t "%r"`, "%c is not supported"},
		{"no year", `%{%H:%M:%S}t "%r"`, "no a year"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewApacheDecoder(strings.NewReader(""), "x.log", tt.format)
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewApacheDecoder(%q) error = %v; want a *FormatError containing %q", tt.format, err, tt.want)
			}
			if fe.Offset < -1 || fe.Offset > len(tt.format) {
				t.Errorf("offset %d is outside the format", fe.Offset)
			}
		})
	}
}

// TestApacheNicknames: the stock nicknames and a whole LogFormat directive
// compile to the same format as the string.
func TestApacheNicknames(t *testing.T) {
	line := `192.0.2.10 - - [21/Nov/2026:20:00:01 +0000] "GET / HTTP/1.1" 200 23 "-" "curl/8"` + "\n"
	var want string
	for _, format := range []string{
		"combined",
		`%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"`,
		`LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined`,
	} {
		dec, err := NewApacheDecoder(strings.NewReader(line), "a.log", format)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		got := string(resultLines(t, drainHits(t, withHost(dec), "a.log", len(line))))
		if want == "" {
			want = got
		} else if got != want {
			t.Errorf("%s decodes to\n%s; want\n%s", format, got, want)
		}
	}
}

func ExampleNewApacheDecoder() {
	log := `192.0.2.10 - - [21/Nov/2026:20:00:01 +0000] "GET /index.html?lang=en HTTP/1.1" 200 2326 "-" "curl/8.4.0" 1843` + "\n"
	dec, err := NewApacheDecoder(strings.NewReader(log), "access.log", `%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %D`)
	if err != nil {
		panic(err)
	}
	var h Hit
	if err := dec(&h); err != nil {
		panic(err)
	}
	e := &h.Exchange
	l, _ := e.Latency()
	// %t is when the request was received: the start, not start + %D.
	fmt.Println(e.Time.Format(time.RFC3339Nano), e.Method, e.Path, e.Query, l, h.Client)
	// Output: 2026-11-21T20:00:01Z GET /index.html lang=en 1.843ms 192.0.2.10
}

func FuzzApacheFormat(f *testing.F) {
	for _, name := range []string{"combined", "custom", "epoch"} {
		format, err := os.ReadFile("testdata/apache/" + name + ".format")
		if err != nil {
			f.Fatal(err)
		}
		addAccessLogSeeds(f, "testdata/apache/"+name+".log", func(line string) { f.Add(string(format), line) })
	}
	// The field cases in combined format, read by Apache's combined.
	addFieldCaseSeeds(f, func(format, data string) {
		if format == "" {
			for line := range strings.Lines(data) {
				f.Add("combined", line)
			}
		}
	})
	f.Add(`%h %t %r %>s %b %{User-Agent}i %D`, "192.0.2.1 [21/Nov/2026:20:00:01 +0000] GET /x HTTP/1.1 200 512 Mozilla/5.0 (X11; Linux) 1843")
	f.Add(`%{usec}t %{usec_frac}t %U%q`, "1795291201000000 123456 /a?b")
	f.Add(`%400{x}i%!200,304C%{%D %r}t %{c}a %^ti`, "")
	f.Fuzz(func(t *testing.T, format, data string) {
		dec, err := NewApacheDecoder(strings.NewReader(data), "fuzz.log", format)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Offset < -1 || fe.Offset > len(format) {
				t.Fatalf("NewApacheDecoder(%q) error = %#v; want a *FormatError in the format", format, err)
			}
			return
		}
		drainAccessLog(t, dec)
	})
}

func BenchmarkApacheDecode(b *testing.B) {
	format := apacheFormatOf(b, "testdata/apache/combined.log")
	benchDecoder(b, "testdata/apache/combined.log", func(r io.Reader, name string) Decoder {
		dec, err := NewApacheDecoder(r, name, format)
		if err != nil {
			b.Fatal(err)
		}
		return dec
	})
}
