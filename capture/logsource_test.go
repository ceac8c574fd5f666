package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// Test plumbing for the decoders of load balancer, CDN and proxy logs.

// lineDecoder makes a Decoder of one input.
type lineDecoder func(r io.Reader, name string) Decoder

// decodeWith returns the decodeFunc of a lineDecoder, checking the Decoder
// contract on the way.
func decodeWith(newDec lineDecoder) decodeFunc {
	return func(t testing.TB, data []byte, name string) []decodeResult {
		return drainHits(t, withHost(newDec(bytes.NewReader(data), name)), name, len(data))
	}
}

// withHost fills in the host of hits that name none, as the pipeline does
// (Options.Host), so that drainHits can check the rest.
func withHost(dec Decoder) Decoder {
	return func(h *Hit) error {
		err := dec(h)
		if err == nil && h.Exchange.Host == "" {
			h.Exchange.Host = DefaultHost
		}
		return err
	}
}

// wideInput reports whether data is UTF-16 or UTF-32 text, which a decoder
// refuses with one fatal error naming the encoding (checked here).
func wideInput(t *testing.T, data []byte, got []decodeResult) bool {
	enc, _ := wideEncoding(data[:min(4, len(data))])
	if enc == "" || bytes.HasPrefix(data, utf8BOM) {
		return false
	}
	if len(got) != 1 || !strings.Contains(got[0].Fatal, enc) {
		t.Fatalf("%s input: %+v; want one fatal error naming it", enc, got)
	}
	return true
}

// fuzzDecoder checks the Decoder contract on any input: it ends, every
// record error has a line and a reason, every hit is valid.
func fuzzDecoder(t *testing.T, newDec lineDecoder, data []byte) {
	got := decodeWith(newDec)(t, data, "fuzz.log")
	if wideInput(t, data, got) {
		return
	}
	if _, _, fatal := countResults(got); fatal > 0 {
		t.Fatalf("fatal error on an in-memory input: %+v", got[len(got)-1])
	}
}

// testNoRawLines checks that no record error of a golden input quotes the
// whole line it skipped: reasons stay short and structural.
func testNoRawLines(t *testing.T, path string, newDec lineDecoder) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := newDec(bytes.NewReader(data), path)
	lines := bytes.Split(data, []byte("\n"))
	for {
		var h Hit
		err := dec(&h)
		if err == io.EOF {
			return
		}
		var rerr *RecordError
		if !errors.As(err, &rerr) {
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		line := lines[rerr.Pos.Line-1]
		if len(line) > 40 && bytes.Contains([]byte(rerr.Error()), line[:40]) {
			t.Errorf("%v quotes its line", rerr)
		}
		if len(rerr.Reason) > 200 {
			t.Errorf("%v: reason of %d bytes; want a short one", rerr, len(rerr.Reason))
		}
	}
}

// goodLines returns the lines of path that decode, repeated to about n
// bytes, for benchmarks.
func goodLines(b *testing.B, path string, newDec lineDecoder, n int) (data []byte, lines int) {
	src, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	// Header lines ("#Fields: ...") lead the data; records are those
	// that decode after them.
	var header []byte
	var good [][]byte
	for _, line := range bytes.SplitAfter(src, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("#")) {
			if len(good) > 0 {
				break // a second header: the records after it are another layout
			}
			header = append(header, line...)
			continue
		}
		var h Hit
		if err := newDec(bytes.NewReader(append(header[:len(header):len(header)], line...)), "x")(&h); err == nil {
			good = append(good, line)
		}
	}
	if len(good) == 0 {
		b.Fatalf("no good lines in %s", path)
	}
	var buf bytes.Buffer
	buf.Write(header)
	for buf.Len() < n {
		for _, line := range good {
			buf.Write(line)
			lines++
		}
	}
	return buf.Bytes(), lines
}

// benchDecoder measures lines/s of a decoder over the good lines of path.
func benchDecoder(b *testing.B, path string, newDec lineDecoder) {
	data, lines := goodLines(b, path, newDec, 4<<20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		dec := newDec(bytes.NewReader(data), "bench.log")
		var h Hit
		n := 0
		for {
			err := dec(&h)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != lines {
			b.Fatalf("decoded %d lines; want %d", n, lines)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
