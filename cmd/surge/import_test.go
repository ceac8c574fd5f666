package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/capture"
	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

func TestImportSamples(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	tests := []struct {
		name string
		args []string
	}{
		// The main log, nginx format with request times, sessions by cookie.
		{"nginx", []string{"nginx", "--config", "../../configs/capture.yaml", "--log-format", "@" + sample + "match-night.format", sample + "match-night.log.gz"}},
		// The same traffic as a combined log: sessions by address + agent.
		{"combined", []string{"combined", sample + "match-night-combined.log.gz"}},
		// Browser sessions.
		{"har", []string{"har", "--session-key", "cookie:sid", sample + "match-night.har"}},
		// GoReplay.
		{"gor", []string{"gor", "--session-key", "cookie:sid", sample + "match-night.gor"}},
		// Viewing histories, CSV and JSON lines.
		{"views-csv", []string{"views", sample + "views.csv.gz"}},
		{"views-jsonl", []string{"views", sample + "views.jsonl"}},
		// surge's own JSON lines.
		{"jsonl", []string{"jsonl", "../../capture/testdata/jsonl/export.jsonl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, tt.name+".parquet")
			_, errs, err := surge(t, append(append([]string{"import"}, tt.args...), "-o", out)...)
			if err != nil {
				t.Fatalf("import: %v\n%s", err, errs)
			}
			golden(t, "inspect-"+tt.name+".json", inspectJSON(t, dir, out))
		})
	}
}

// TestSecretsDoNotTravel imports the sample, whose lines carry session
// cookies, bearer tokens and user ids, and checks none of the raw values is
// anywhere in the output.
func TestSecretsDoNotTravel(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	format, err := os.ReadFile(sample + "match-night.format")
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]bool{}
	in, err := capture.OpenFile(sample + "match-night.log.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dec, err := capture.NewNginxDecoder(in, "log", string(format))
	if err != nil {
		t.Fatal(err)
	}
	for {
		var h capture.Hit
		err := dec(&h)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.UserID != "" {
			secrets[h.UserID] = true
		}
		for _, hd := range h.Exchange.Headers {
			if hd.Name == "Authorization" || hd.Name == "Cookie" {
				for _, tok := range tokens(hd.Value) {
					if len(tok) >= 8 && tok != "Bearer" {
						secrets[tok] = true
					}
				}
			}
		}
	}
	if len(secrets) < 1000 {
		t.Fatalf("found only %d raw secrets in the sample; the test would prove nothing", len(secrets))
	}

	out := filepath.Join(t.TempDir(), "x.parquet")
	mustSurge(t, "import", "nginx", "--config", "../../configs/capture.yaml", "--log-format", "@"+sample+"match-night.format", sample+"match-night.log.gz", "-o", out)
	rd, err := eventlog.Open[schema.Exchange]([]string{out}, eventlog.Range{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	n := 0
	for ; ; n++ {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		values := []string{e.Session, e.User, e.Path, e.Query, string(e.Body)}
		for _, h := range e.Headers {
			values = append(values, h.Value)
		}
		for _, v := range values {
			for _, tok := range tokens(v) {
				if secrets[tok] {
					t.Fatalf("event %d carries the raw secret %q", n, tok)
				}
			}
		}
	}
	if n < 40000 {
		t.Fatalf("read %d events; want the whole sample", n)
	}
}

// tokens splits a value into the words a secret could be.
func tokens(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(" ;=,&\"{}:", r) })
}

func TestImportFailuresLeaveNothing(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.log")
	good := "203.0.113.9 - - [21/Nov/2026:20:00:01 +0000] \"GET /a HTTP/1.1\" 200 12 \"-\" \"curl/8\"\n"
	os.WriteFile(bad, []byte(good+"this is not a log line\n"+good), 0o644)
	allBad := filepath.Join(dir, "allbad.log")
	os.WriteFile(allBad, []byte("garbage\nmore garbage\n"), 0o644)
	existing := filepath.Join(dir, "existing.parquet")
	os.WriteFile(existing, []byte("keep me"), 0o644)

	tests := []struct {
		name    string
		args    []string
		out     string
		wantErr string
	}{
		// --strict stops at the bad line and names it.
		{"strict", []string{"combined", "--strict", bad}, "strict.parquet", "bad.log:2 (offset"},
		// Nothing good at all is an error, not an empty file.
		{"all bad", []string{"combined", allBad}, "allbad.parquet", "no events in"},
		// A failed import does not touch what was at the path.
		{"existing", []string{"combined", "--strict", "--force", bad}, "existing.parquet", "bad.log:2"},
		// An existing output is not replaced without --force, and nothing is read.
		{"existing without force", []string{"combined", bad}, "existing.parquet", "exists; pass --force to replace it"},
		// A missing input.
		{"missing", []string{"combined", filepath.Join(dir, "nope.log")}, "missing.parquet", "nope.log"},
		// An unknown format is a usage error.
		{"format", []string{"apache2", bad}, "format.parquet", `unknown format "apache2"`},
		// The nginx format without its log_format.
		{"no log format", []string{"nginx", bad}, "nolf.parquet", "--log-format"},
		// A log_format that does not compile.
		{"bad log format", []string{"nginx", "--log-format", "$a$b", bad}, "badlf.parquet", "log-format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadDir(dir)
			out := filepath.Join(dir, tt.out)
			_, _, err := surge(t, append(append([]string{"import"}, tt.args...), "-o", out)...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("import error = %v; want one containing %q", err, tt.wantErr)
			}
			after, _ := os.ReadDir(dir)
			if len(after) != len(before) {
				t.Errorf("%d files in the output directory after a failed import; want %d", len(after), len(before))
			}
			if b, _ := os.ReadFile(existing); string(b) != "keep me" {
				t.Errorf("existing output changed to %q", b)
			}
		})
	}
}

func TestImportSkipsBadLines(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	dir := t.TempDir()
	in := filepath.Join(dir, "mixed.log")
	good := "203.0.113.9 - - [21/Nov/2026:20:00:01 +0000] \"GET /a HTTP/1.1\" 200 12 \"-\" \"curl/8\"\n"
	huge := "203.0.113.9 - - [21/Nov/2026:20:00:01 +0000] \"GET /a HTTP/1.1\" 200 12 \"-\" \"" + strings.Repeat("x", 1<<20) + "\"\n"
	os.WriteFile(in, []byte(good+"junk\n"+huge+good), 0o644)
	out := filepath.Join(dir, "x.parquet")
	_, errs, err := surge(t, "import", "combined", in, "-o", out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errs, "2 bad records skipped") || !strings.Contains(errs, "mixed.log:2") || !strings.Contains(errs, "mixed.log:3") {
		t.Errorf("import stderr does not name both bad lines:\n%s", errs)
	}
	text := mustSurge(t, "inspect", out)
	if !strings.Contains(text, "2 skipped") || !strings.Contains(text, "mixed.log:3 (offset") || !strings.Contains(text, "line too long") {
		t.Errorf("inspect does not show the import problems:\n%s", text)
	}
}

func TestImportHiveDirectory(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	dir := filepath.Join(t.TempDir(), "final")
	mustSurge(t, "import", "combined", sample+"match-night-combined.log.gz", "-o", dir)
	files, err := filepath.Glob(filepath.Join(dir, "dt=2026-11-21", "hour=*", "part-*.parquet"))
	if err != nil || len(files) != 2 {
		t.Fatalf("hive files = %v, %v; want hours 19 and 20", files, err)
	}
	out := mustSurge(t, "inspect", "--json", dir)
	if !strings.Contains(out, `"events": 46497`) || !strings.Contains(out, `"format": "combined"`) {
		t.Errorf("inspect of the directory:\n%s", clip([]byte(out)))
	}
	// A time range reads only its hour.
	out = mustSurge(t, "inspect", "--json", "--from", "2026-11-21T20:00:00Z", dir)
	var s struct{ First time.Time }
	if err := json.Unmarshal([]byte(out), &s); err != nil || s.First.Hour() != 20 {
		t.Errorf("inspect --from 20:00 starts at %v (%v)", s.First, err)
	}
}

// TestImportNeedsScrubKey: with no key and no config directory for a
// machine key, import refuses.
func TestImportNeedsScrubKey(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "")
	t.Setenv("HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	_, _, err := surge(t, "import", "combined", sample+"match-night-combined.log.gz", "-o", filepath.Join(t.TempDir(), "x.parquet"))
	if !errors.Is(err, capture.ErrNoKey) {
		t.Errorf("import without a key: %v; want ErrNoKey", err)
	}
}

// TestImportEnvironmentAndConfig: a SURGE_* variable and a config key reach
// the same option as the flag.
func TestImportEnvironmentAndConfig(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.log")
	good := "203.0.113.9 - - [21/Nov/2026:20:00:01 +0000] \"GET /a HTTP/1.1\" 200 12 \"-\" \"curl/8\"\n"
	os.WriteFile(bad, []byte(good+"junk\n"+good), 0o644)
	cfg := filepath.Join(dir, "strict.yaml")
	os.WriteFile(cfg, []byte("import:\n  strict: true\n"), 0o644)
	tests := []struct {
		name string
		env  string
		args []string
	}{
		// SURGE_IMPORT_STRICT=true is --strict.
		{"environment", "true", nil},
		// import.strict in the config file is --strict.
		{"config", "", []string{"--config", cfg}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SURGE_IMPORT_STRICT", tt.env)
			args := append([]string{"import", "combined", bad, "-o", filepath.Join(dir, tt.name+".parquet")}, tt.args...)
			if _, _, err := surge(t, args...); err == nil || !strings.Contains(err.Error(), "bad.log:2") {
				t.Errorf("surge %v: %v; want the strict error at bad.log:2", args, err)
			}
		})
	}
}
