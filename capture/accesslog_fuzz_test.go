package capture

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// addAccessLogSeeds adds the lines of a sample log as fuzz seeds.
func addAccessLogSeeds(f *testing.F, path string, add func(line string)) {
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		add(line)
	}
}

// addFieldCaseSeeds calls add with each access-log field case
// (testdata/field-cases/nginx-*.log, but the 337 KB line's) and its
// log_format, "" for the combined ones.
func addFieldCaseSeeds(f *testing.F, add func(format, data string)) {
	files, err := filepath.Glob("testdata/field-cases/nginx-*.log")
	if err != nil || len(files) == 0 {
		f.Fatalf("no field cases (%v)", err)
	}
	for _, file := range files {
		if strings.Contains(file, "very-long") {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		format, err := os.ReadFile(strings.TrimSuffix(file, ".log") + ".format")
		if err != nil && !os.IsNotExist(err) {
			f.Fatal(err)
		}
		add(strings.TrimSpace(string(format)), string(data))
	}
}

// drainAccessLog decodes everything dec yields, checking what every decoded Hit
// promises, and stops at the first error that is not a *RecordError.
func drainAccessLog(t *testing.T, dec Decoder) {
	for n := 0; ; n++ {
		var h Hit
		err := dec(&h)
		var rerr *RecordError
		switch {
		case err == io.EOF:
			return
		case errors.As(err, &rerr):
			if rerr.Pos.Line == 0 {
				t.Fatalf("record error without a line: %v", rerr)
			}
			continue
		case errors.As(err, new(*EncodingError)):
			return // UTF-16 or UTF-32 input, refused by its first bytes
		case err != nil:
			t.Fatalf("decode: %v", err)
		}
		for _, p := range h.Exchange.Validate() {
			var fe *schema.FieldError
			if errors.As(p, &fe) && (fe.Field == "session" || fe.Field == "host" || fe.Field == "time" ||
				strings.HasPrefix(fe.Field, "headers[")) {
				continue // filled later, or what the log said
			}
			t.Fatalf("%s: decoded an invalid exchange: %v: %+v", h.Pos, p, h.Exchange)
		}
		if n > 1<<20 {
			t.Fatal("decoder does not end")
		}
	}
}

func FuzzCombinedDecode(f *testing.F) {
	addAccessLogSeeds(f, "testdata/accesslog/combined.log", func(line string) { f.Add([]byte(line)) })
	f.Add([]byte("1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 0 \"\\\" \\\\\" \"\\x\"\n\n\r\n"))
	addUnseenSeeds(f, "combined") // the field cases too
	f.Fuzz(func(t *testing.T, data []byte) {
		drainAccessLog(t, NewCombinedDecoder(bytes.NewReader(data), "fuzz.log"))
	})
}

func FuzzNginxFormat(f *testing.F) {
	format, err := os.ReadFile("testdata/accesslog/main.format")
	if err != nil {
		f.Fatal(err)
	}
	addAccessLogSeeds(f, "testdata/accesslog/main.log", func(line string) { f.Add(string(format), line) })
	addAccessLogSeeds(f, "testdata/accesslog/combined.log", func(line string) { f.Add(CombinedFormat, line) })
	addFieldCaseSeeds(f, func(format, data string) {
		for line := range strings.Lines(data) {
			f.Add(cmp.Or(format, CombinedFormat), line)
		}
	})
	f.Add(`$msec $request $status`, "1795291201 GET / HTTP/1.1 200")
	f.Add(`${time_local}|$upstream_response_time|$uri?$args`, "21/Nov/2026:20:00:01 +0000|0.1, 0.2 : -|/a?b")
	f.Add(`[$time_iso8601] $request_method $http_host$request_uri $http_upgrade`, "[2026-11-21T20:00:01.5Z] GET h/x websocket")
	f.Add(`$msec "$request" $status $$ ${} ${x`, "")
	f.Add("$0[$time_loCAl] \"$request\"$sCheme", "[01/Nov/0000:00:00:00 +0000] \"0 * HTTP/1.0\"0") // found by fuzzing
	f.Fuzz(func(t *testing.T, format, data string) {
		dec, err := NewNginxDecoder(strings.NewReader(data), "fuzz.log", format)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Offset < -1 || fe.Offset > len(format) {
				t.Fatalf("NewNginxDecoder(%q) error = %#v; want a *FormatError in the format", format, err)
			}
			return
		}
		drainAccessLog(t, dec)
	})
}

// FuzzTimeLocal checks the hand parser of $time_local against time.Parse.
func FuzzTimeLocal(f *testing.F) {
	for _, s := range []string{
		"21/Nov/2026:20:00:01 +0000", "29/Feb/2024:23:59:59 -1200", "29/Feb/2025:00:00:00 +0000",
		"01/Jan/1970:00:00:00 +1400", "31/Dec/9999:23:59:59 -0030", "31/Apr/2026:00:00:00 +0000",
		"01/Jan/0000:00:00:00 +0000", "01/Jan/0000:00:00:00 +2400", // found by fuzzing
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := timeLocal(s)
		want, err := time.Parse("02/Jan/2006:15:04:05 -0700", s)
		if ok && (err != nil || !got.Equal(want)) {
			t.Fatalf("timeLocal(%q) = %v; time.Parse says %v, %v", s, got, want, err)
		}
		// time.Parse is laxer (one-digit days, zones of 24 hours and
		// more); every canonical time it reads, timeLocal must read too.
		_, zone := want.Zone()
		if !ok && err == nil && want.Format("02/Jan/2006:15:04:05 -0700") == s && zone > -86400 && zone < 86400 {
			t.Fatalf("timeLocal(%q) failed; time.Parse reads %v", s, want)
		}
	})
}

// FuzzISO8601 checks the hand parser of $time_iso8601 against time.Parse.
func FuzzISO8601(f *testing.F) {
	for _, s := range []string{
		"2026-11-21T20:00:01+00:00", "2026-11-21T20:00:01.123456789Z", "2024-02-29T23:59:59-05:30",
		"0000-01-01 00:00:00.000000000000000Z", // found by fuzzing
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := iso8601Time(s)
		if !ok {
			return
		}
		want, err := time.Parse(time.RFC3339Nano, strings.Replace(s, " ", "T", 1))
		if err == nil && !got.Equal(want) {
			t.Fatalf("iso8601Time(%q) = %v; time.Parse says %v", s, got, want)
		}
	})
}

// loopReader reads data over and over.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

// goodAccessLines returns the lines of a sample log that decode without error.
func goodAccessLines(b *testing.B, path string, newDec func(io.Reader) Decoder) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var h Hit
		if err := newDec(strings.NewReader(sc.Text()))(&h); err == nil {
			out.WriteString(sc.Text() + "\n")
		}
	}
	return out.Bytes()
}

// benchAccessDecode decodes b.N lines cycling through the good lines of a sample.
func benchAccessDecode(b *testing.B, path string, newDec func(io.Reader) Decoder) {
	data := goodAccessLines(b, path, newDec)
	lines := bytes.Count(data, []byte("\n"))
	dec := newDec(&loopReader{data: data})
	var h Hit
	b.SetBytes(int64(len(data) / lines))
	b.ReportAllocs()
	for b.Loop() {
		if err := dec(&h); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/line")
}

func BenchmarkCombinedDecode(b *testing.B) {
	benchAccessDecode(b, "testdata/accesslog/combined.log", func(r io.Reader) Decoder {
		return NewCombinedDecoder(r, "bench.log")
	})
}

func BenchmarkNginxDecode(b *testing.B) {
	format, err := os.ReadFile("testdata/accesslog/main.format")
	if err != nil {
		b.Fatal(err)
	}
	benchAccessDecode(b, "testdata/accesslog/main.log", func(r io.Reader) Decoder {
		dec, err := NewNginxDecoder(r, "bench.log", string(format))
		if err != nil {
			b.Fatal(err)
		}
		return dec
	})
}
