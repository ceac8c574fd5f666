package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const fieldCases = "../../capture/testdata/field-cases/"

// TestFieldCaseTokens: the field cases whose secrets leaked through skip
// reasons (../shared/field-cases/README.md). No raw secret anywhere: not in
// stderr, the Parquet bytes, any event's columns, nor surge inspect.
func TestFieldCaseTokens(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	secret := regexp.MustCompile(`fake-(at|pt)-[0-9a-z]+`)
	tests := []struct {
		file string
		// events+skipped is the line count; wantEvents < 0 accepts a
		// request line without protocol imported (nginx serves it as
		// HTTP/1.0) or skipped, whichever the decoder does.
		lines, wantEvents, wantSkipped int
		query                          string // the first event's query, placeholders as ph
	}{
		// Line 2 has no protocol; line 1 has access_token and private_token.
		{"nginx-token-in-rejected-request-line.log", 2, -1, -1, "access_token=ph&private_token=ph&per_page=10"},
		// The last line is cut at EOF inside its request.
		{"nginx-token-query-truncated-line.log", 2, 1, 1, "access_token=ph&per_page=10&scope=all"},
	}
	ph := regexp.MustCompile(`\{\{secret:[0-9a-f]{16}\}\}`)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "x.parquet")
			_, stderr, err := surge(t, "import", "combined", fieldCases+tt.file, "-o", out)
			if err != nil {
				t.Fatalf("import: %v\n%s", err, stderr)
			}
			raw, _ := os.ReadFile(out)
			events := eventsJSON(t, out)
			text := mustSurge(t, "inspect", out)
			js := mustSurge(t, "inspect", "--json", out)
			for where, s := range map[string]string{"stderr": stderr, "parquet bytes": string(raw), "events": events, "inspect": text, "inspect --json": js} {
				if m := secret.FindString(s); m != "" {
					t.Errorf("raw secret %q in %s", m, where)
				}
			}
			n := strings.Count(events, "\n")
			skipped := 0
			if strings.Contains(stderr, " skipped; first:") {
				skipped = 1
			}
			if (tt.wantEvents >= 0 && n != tt.wantEvents) || (tt.wantSkipped >= 0 && skipped != tt.wantSkipped) || n+skipped != tt.lines {
				t.Errorf("%d events, %d skipped; want %d and %d of %d lines\n%s", n, skipped, tt.wantEvents, tt.wantSkipped, tt.lines, stderr)
			}
			if q := ph.ReplaceAllString(firstQuery(events), "ph"); q != tt.query {
				t.Errorf("first query = %q; want %q", q, tt.query)
			}
		})
	}
}

func firstQuery(events string) string {
	m := regexp.MustCompile(`"query":"([^"]*)"`).FindStringSubmatch(events)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], `\u0026`, "&")
}

// TestSampleUserIDsWithoutConfig: without configs/capture.yaml the bundled
// sample's ?user= ids (2,798 events) become user hashes by default.
func TestSampleUserIDsWithoutConfig(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	out := filepath.Join(t.TempDir(), "x.parquet")
	mustSurge(t, "import", "combined", sample+"match-night-combined.log.gz", "-o", out)
	events := eventsJSON(t, out)
	raw := regexp.MustCompile(`user=u[0-9]+\b`).FindAllString(events, -1)
	hashed := strings.Count(events, "user=u_")
	if len(raw) != 0 || hashed < 2798 {
		t.Errorf("%d raw user= values (first %v), %d hashed; want 0 and 2798", len(raw), raw[:min(len(raw), 3)], hashed)
	}
}
