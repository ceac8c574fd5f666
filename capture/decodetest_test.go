package capture

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/surge-replay/surge/schema"
)

// Test plumbing shared by the tests of the HAR, GoReplay, JSON lines and
// views decoders: run a decoder to its end checking its contract, write what
// it gave as JSON lines for golden files, and cut inputs short.

// decodeResult is what one call of a decoder gave.
type decodeResult struct {
	Pos       string               `json:"pos,omitempty"`
	Client    string               `json:"client,omitempty"`
	UserID    string               `json:"user_id,omitempty"`
	SessionID string               `json:"session_id,omitempty"`
	Exchange  *schema.Exchange     `json:"exchange,omitempty"`
	View      *schema.ViewingEvent `json:"view,omitempty"`
	Error     string               `json:"error,omitempty"` // a *RecordError: skipped
	Fatal     string               `json:"fatal,omitempty"` // the error that ended decoding
}

// checkRecordError checks the position of a record error against the input.
func checkRecordError(t testing.TB, err error, name string, size int) {
	t.Helper()
	var rerr *RecordError
	if !errors.As(err, &rerr) {
		return
	}
	if rerr.Pos.File != name || rerr.Pos.Offset < 0 || rerr.Pos.Offset > int64(size) || rerr.Pos.Line < 0 {
		t.Errorf("RecordError %v: position is not in %s (%d bytes)", err, name, size)
	}
	if rerr.Reason == "" {
		t.Errorf("RecordError %v has no reason", err)
	}
}

// fatalResult checks that a fatal error cannot be mistaken for the end.
func fatalResult(t testing.TB, err error) decodeResult {
	t.Helper()
	if errors.Is(err, io.EOF) {
		t.Errorf("fatal error %q wraps io.EOF", err)
	}
	return decodeResult{Fatal: err.Error()}
}

// drainHits calls dec until io.EOF or a fatal error and checks the Decoder
// contract: hits are valid (but for the session the pipeline sets) and
// positioned in the input, the decoder ends within a call per input byte.
func drainHits(t testing.TB, dec Decoder, name string, size int) []decodeResult {
	t.Helper()
	var out []decodeResult
	for calls := 0; calls <= size+10; calls++ {
		var h Hit
		err := dec(&h)
		var rerr *RecordError
		switch {
		case err == io.EOF:
			return out
		case errors.As(err, &rerr):
			checkRecordError(t, err, name, size)
			out = append(out, decodeResult{Error: err.Error()})
			continue
		case err != nil:
			return append(out, fatalResult(t, err))
		}
		if p := exchangeProblem(&h.Exchange); p != nil {
			t.Errorf("hit at %v is not valid: %v", h.Pos, p)
		}
		if h.Exchange.Session != "" || h.Exchange.User != "" {
			t.Errorf("hit at %v: decoder set Session %q and User %q; want both empty", h.Pos, h.Exchange.Session, h.Exchange.User)
		}
		if h.Pos.File != name || h.Pos.Offset < 0 || h.Pos.Offset > int64(size) {
			t.Errorf("hit position %v is not in %s (%d bytes)", h.Pos, name, size)
		}
		x := h.Exchange
		out = append(out, decodeResult{Pos: h.Pos.String(), Client: h.Client, UserID: h.UserID, SessionID: h.SessionID, Exchange: &x})
	}
	t.Fatalf("%s: decoder did not end after %d calls on %d bytes", name, size+10, size)
	return nil
}

// drainViews is drainHits for a ViewDecoder.
func drainViews(t testing.TB, dec ViewDecoder, name string, size int) []decodeResult {
	t.Helper()
	var out []decodeResult
	for calls := 0; calls <= size+10; calls++ {
		var v schema.ViewingEvent
		var pos Position
		err := dec(&v, &pos)
		var rerr *RecordError
		switch {
		case err == io.EOF:
			return out
		case errors.As(err, &rerr):
			checkRecordError(t, err, name, size)
			out = append(out, decodeResult{Error: err.Error()})
			continue
		case err != nil:
			return append(out, fatalResult(t, err))
		}
		if errs := v.Validate(); errs != nil {
			t.Errorf("event at %v is not valid: %v", pos, errs)
		}
		if pos.File != name || pos.Line < 1 || pos.Offset < 0 || pos.Offset > int64(size) {
			t.Errorf("event position %v is not in %s (%d bytes)", pos, name, size)
		}
		out = append(out, decodeResult{Pos: pos.String(), View: &v})
	}
	t.Fatalf("%s: decoder did not end after %d calls on %d bytes", name, size+10, size)
	return nil
}

// resultLines renders results as JSON lines, as golden files hold them.
func resultLines(t testing.TB, results []decodeResult) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, r := range results {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// decodeFunc runs one decoder over data named name.
type decodeFunc func(t testing.TB, data []byte, name string) []decodeResult

// testGoldenFiles decodes each file matching pattern and compares the result
// with the file's .golden neighbour (go test -update rewrites it).
func testGoldenFiles(t *testing.T, pattern string, decode decodeFunc) {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files match %s (%v)", pattern, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.ToSlash(file)
			checkGolden(t, file+".golden", resultLines(t, decode(t, data, name)))
		})
	}
}

// testTruncations decodes prefixes of each file matching pattern; the
// decoder's contract must hold for all of them, and check (when not nil)
// sees the results of data cut to n bytes.
func testTruncations(t *testing.T, pattern string, decode decodeFunc, check func(t *testing.T, data []byte, n int, got []decodeResult)) {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files match %s (%v)", pattern, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n <= len(data); n++ {
			if !nearLineEnd(data, n) && n%5 != 0 {
				continue // every byte near a line end, every fifth elsewhere
			}
			got := decode(t, data[:n], file)
			if check != nil {
				check(t, data, n, got)
			}
			if t.Failed() {
				t.Fatalf("%s cut to %d of %d bytes", file, n, len(data))
			}
		}
	}
}

// nearLineEnd reports whether data[:n] ends within two bytes of a newline,
// where formats change state.
func nearLineEnd(data []byte, n int) bool {
	for i := max(0, n-3); i < min(len(data), n+2); i++ {
		if data[i] == '\n' {
			return true
		}
	}
	return n == len(data)
}

// addSeeds adds every file matching pattern to the fuzz corpus.
func addSeeds(f *testing.F, pattern string) {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files match %s (%v)", pattern, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// countResults counts hits or events, record errors and fatal errors.
func countResults(rs []decodeResult) (ok, bad, fatal int) {
	for _, r := range rs {
		switch {
		case r.Fatal != "":
			fatal++
		case r.Error != "":
			bad++
		default:
			ok++
		}
	}
	return ok, bad, fatal
}
