package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlainMessages: mistakes a newcomer makes get a message that says what
// to do, and usage mistakes exit 2.
func TestPlainMessages(t *testing.T) {
	capture := sampleCapture(t)
	results := filepath.Join(t.TempDir(), "results.parquet")
	// A tiny replay against the demo platform, for a results file.
	if _, errs, err := surge(t, "demo", "--from", capture, "--window-to", "5s", "--speed", "10", "--progress", "none", "--results", results); err != nil {
		var ee *exitError
		if !errors.As(err, &ee) || ee.code == exitUsage {
			t.Fatalf("demo: %v\n%s", err, errs)
		}
	}
	empty := t.TempDir()
	for _, tc := range []struct {
		name  string
		dir   string // working directory, "" for the package's
		args  []string
		want  string
		usage bool
	}{
		// inspect is for captures; a results file belongs to surge report.
		{name: "inspect results", args: []string{"inspect", results}, want: "is a replay results file: use surge report " + results},
		// surge demo outside a checkout, before make demo imported the sample.
		{name: "demo without capture", dir: empty, args: []string{"demo"}, want: "run make demo in a surge checkout", usage: true},
		// The demo platform listens on loopback only.
		{name: "demo serve not loopback", args: []string{"demo", "serve", "--addr", "0.0.0.0:8080"}, want: "not loopback", usage: true},
		// An address without a port.
		{name: "demo serve no port", args: []string{"demo", "serve", "--addr", "x"}, want: "want HOST:PORT on loopback", usage: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.dir != "" {
				t.Chdir(tc.dir)
			}
			_, _, err := surge(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("surge %v = %v; want %q", tc.args, err, tc.want)
			}
			var ee *exitError
			if isUsage := errors.As(err, &ee) && ee.code == exitUsage; isUsage != tc.usage {
				t.Errorf("surge %v: usage error %v; want %v", tc.args, isUsage, tc.usage)
			}
		})
	}
}

// TestDemoServe: the demo platform runs alone on a free loopback port for
// --for and prints what it saw.
func TestDemoServe(t *testing.T) {
	out := mustSurge(t, "demo", "serve", "--addr", "127.0.0.1:0", "--for", "200ms")
	if !strings.Contains(out, "demo platform on http://127.0.0.1:") || !strings.Contains(out, "as the server saw it") {
		t.Errorf("demo serve output:\n%s", out)
	}
}

// TestImportSaysWhatItDid: the import's summary counts records without the
// session key (and says how they were sessionized), with numbers grouped
// and singular and plural right.
func TestImportSaysWhatItDid(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	out := filepath.Join(t.TempDir(), "x.parquet")
	_, errs, err := surge(t, "import", "nginx", "--log-format", "@"+sample+"match-night.format",
		"--session-key", "cookie:nope", sample+"match-night.log.gz", "-o", out)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"imported 46,497 events (", "from 46,497 records in 1 file in ",
		"46,497 records without the session key cookie:nope: sessionized by client address and user agent",
		"1 record came later than the re-order window (--reorder-window 30s): written, but sessionized after records that followed it",
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("import output lacks %q:\n%s", w, errs)
		}
	}
}
