package capture

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// The field cases are inputs rebuilt from public bug reports of people who
// parse access logs, HAR exports and GoReplay files (testdata/field-cases,
// see its README). Each is imported the way surge import does it: OpenFile,
// the format's decoder, Import.

// fieldCase is the outcome of importing one field-case file.
type fieldCase struct {
	events []schema.Exchange
	rep    *Report
	err    error
}

// importFieldCase imports testdata/field-cases/file as surge import format
// does; an nginx file takes its log_format from the sibling .format file.
func importFieldCase(t *testing.T, format, file string) fieldCase {
	t.Helper()
	path := filepath.Join("testdata", "field-cases", file)
	r, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var dec Decoder
	switch format {
	case "combined":
		dec = NewCombinedDecoder(r, path)
	case "nginx":
		lf, err := os.ReadFile(strings.TrimSuffix(path, ".log") + ".format")
		if err != nil {
			t.Fatal(err)
		}
		if dec, err = NewNginxDecoder(r, path, strings.TrimSpace(string(lf))); err != nil {
			t.Fatal(err)
		}
	case "har":
		dec = NewHARDecoder(r, path)
	case "gor":
		dec = NewGorDecoder(r, path)
	default:
		t.Fatalf("no importer %q", format)
	}
	var fc fieldCase
	fc.rep, fc.err = Import(context.Background(), []Input{{Name: path, Decode: dec}},
		Options{Scrub: ScrubConfig{Key: []byte("field-case-key")}}, func(e *schema.Exchange) error {
			fc.events = append(fc.events, *e)
			return nil
		})
	return fc
}

// utc parses an RFC 3339 time for a want.
func utc(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

// wantEvents checks the number of events and skipped records.
func (fc fieldCase) wantEvents(t *testing.T, events, skipped int) {
	t.Helper()
	if fc.err != nil {
		t.Fatalf("Import: %v", fc.err)
	}
	if len(fc.events) != events || fc.rep.Skipped != int64(skipped) {
		t.Fatalf("got %d events, %d skipped %v; want %d, %d", len(fc.events), fc.rep.Skipped, fc.rep.Problems, events, skipped)
	}
	for i := 1; i < len(fc.events); i++ {
		if fc.events[i].Time.Before(fc.events[i-1].Time) {
			t.Errorf("event %d at %v is before event %d at %v: not in time order", i, fc.events[i].Time, i-1, fc.events[i-1].Time)
		}
	}
}

// wantProblems checks that each skipped record names its line and holds the
// words of its reason.
func (fc fieldCase) wantProblems(t *testing.T, lines []int64, words ...string) {
	t.Helper()
	if len(fc.rep.Problems) != len(lines) {
		t.Fatalf("problems %v; want %d", fc.rep.Problems, len(lines))
	}
	for i, p := range fc.rep.Problems {
		if p.Line != lines[i] || !strings.Contains(p.File, "field-cases") {
			t.Errorf("problem %d at %s:%d; want line %d", i, p.File, p.Line, lines[i])
		}
		if i < len(words) && !strings.Contains(p.Reason, words[i]) {
			t.Errorf("problem %d reason %q; want it to say %q", i, p.Reason, words[i])
		}
	}
}

func latencyMS(e *schema.Exchange) float64 {
	if e.LatencyNS == nil {
		return -1
	}
	return float64(*e.LatencyNS) / 1e6
}
