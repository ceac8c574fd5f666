package main

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// TestImportSources imports each source's golden input through surge
// import and checks the event count, the skipped records and one event's
// fields as they reach the Parquet file (after scrubbing and sessions).
func TestImportSources(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	const td = "../../capture/testdata/"
	tests := []struct {
		name    string
		args    []string
		events  int
		skipped string // "N bad records skipped" in stderr; "" for none
		path    string // the event checked
		check   func(t *testing.T, e *schema.Exchange)
	}{
		// Apache with a custom LogFormat from a file: %t is the start.
		{"apache", []string{"apache", "--log-format", "@" + td + "apache/custom.format", td + "apache/custom.log"}, 2, "1 bad record", "/watch/tt0111161",
			func(t *testing.T, e *schema.Exchange) {
				wantEvent(t, e, time.Date(2026, 11, 21, 20, 0, 1, 250e6, time.UTC), "www.example.com", 200, 87*time.Millisecond)
			}},
		// Apache without --log-format reads the combined format.
		{"apache-combined", []string{"apache", td + "apache/stock.log"}, 3, "", "/private/",
			func(t *testing.T, e *schema.Exchange) {
				wantEvent(t, e, time.Date(2026, 11, 21, 20, 0, 2, 0, time.UTC), "localhost", 401, -1)
			}},
		// ALB: request_creation_time is the start.
		{"alb", []string{"alb", td + "alb/access.log"}, 7, "4 bad records", "/v1/catalog",
			func(t *testing.T, e *schema.Exchange) {
				wantEvent(t, e, time.Date(2026, 11, 21, 20, 0, 2, 15e6, time.UTC), "api.example.com", 200, 171*time.Millisecond)
				if e.Query != "lang=en&page=2" || e.Scheme != "https" {
					t.Errorf("query %q scheme %q", e.Query, e.Scheme)
				}
			}},
		// CloudFront: the end minus time-taken; the edge is the region.
		{"cloudfront", []string{"cloudfront", td + "cloudfront/standard.log"}, 6, "3 bad records", "/video/s/seg-00042.ts",
			func(t *testing.T, e *schema.Exchange) {
				wantEvent(t, e, time.Date(2026, 11, 21, 20, 0, 1, 998e6, time.UTC), "cdn.example.com", 200, 2*time.Millisecond)
				if e.Region != "LHR61-P1" || e.Device != "desktop" {
					t.Errorf("region %q device %q", e.Region, e.Device)
				}
				if c, _ := e.Header("Cookie"); strings.Contains(c, "7f3c9a") {
					t.Errorf("the cookie value is not scrubbed: %q", c)
				}
			}},
		// Envoy and Istio, text and JSON: START_TIME is the start.
		{"envoy", []string{"envoy", td + "envoy/access.log"}, 8, "5 bad records", "/ratings/0",
			func(t *testing.T, e *schema.Exchange) {
				wantEvent(t, e, time.Date(2026, 11, 21, 20, 0, 5, 10e6, time.UTC), "ratings:9080", 200, 4*time.Millisecond)
			}},
		// Caddy: ts minus duration.
		{"caddy", []string{"caddy", td + "caddy/access.log"}, 5, "4 bad records", "/v1/login",
			func(t *testing.T, e *schema.Exchange) {
				wantEvent(t, e, time.Date(2026, 11, 21, 20, 0, 2, 0, time.UTC), "api.example.com", 401, 250*time.Millisecond)
				if e.User == "" || strings.Contains(e.User, "alice") {
					t.Errorf("user %q; want alice's keyed hash", e.User)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), tt.name+".parquet")
			_, errs, err := surge(t, append(append([]string{"import"}, tt.args...), "-o", out)...)
			if err != nil {
				t.Fatalf("import: %v\n%s", err, errs)
			}
			if tt.skipped != "" && !strings.Contains(errs, tt.skipped+" skipped") {
				t.Errorf("stderr does not say %q:\n%s", tt.skipped, errs)
			}
			events := readEvents(t, out)
			if len(events) != tt.events {
				t.Fatalf("%d events; want %d", len(events), tt.events)
			}
			for i := range events {
				if e := &events[i]; e.Path == tt.path {
					if e.Source != tt.args[0] && !(tt.args[0] == "apache" && e.Source == "apache") {
						t.Errorf("source %q; want %q", e.Source, tt.args[0])
					}
					tt.check(t, e)
					return
				}
			}
			t.Errorf("no event with path %s", tt.path)
		})
	}
}

// wantEvent checks the start, host, status and latency of an event; a
// negative latency means unknown.
func wantEvent(t *testing.T, e *schema.Exchange, start time.Time, host string, status int, latency time.Duration) {
	t.Helper()
	if !e.Time.Equal(start) {
		t.Errorf("time %v; want %v", e.Time, start)
	}
	if e.Host != host || e.StatusCode() != status {
		t.Errorf("host %q status %d; want %q %d", e.Host, e.StatusCode(), host, status)
	}
	l, ok := e.Latency()
	if latency < 0 && ok || latency >= 0 && l != latency {
		t.Errorf("latency %v (known %v); want %v", l, ok, latency)
	}
	if e.Session == "" {
		t.Error("no session")
	}
}

// readEvents reads every event of a Parquet event log.
func readEvents(t *testing.T, path string) []schema.Exchange {
	t.Helper()
	rd, err := eventlog.Open[schema.Exchange]([]string{path}, eventlog.Range{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var out []schema.Exchange
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *e)
	}
}
