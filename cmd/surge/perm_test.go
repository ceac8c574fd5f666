package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surge-replay/surge/eventlog"
)

// TestOutputPermissions: every file surge writes (captures, results,
// summaries, JUnit, as one file or a hive directory) is 0666 less the
// umask and every directory it makes 0777 less the umask (0644 and 0755
// with the usual 022), so a job run by another user can read them: the
// temporary files they are written through start private.
func TestOutputPermissions(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	lines := `127.0.0.1 - - [21/Nov/2026:19:55:00 +0000] "GET /api/home HTTP/1.1" 200 512 "-" "curl/8"
127.0.0.1 - - [21/Nov/2026:19:55:01 +0000] "GET /api/search?q=x HTTP/1.1" 200 100 "-" "curl/8"
`
	if err := os.WriteFile(log, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	mustSurge(t, "import", "combined", log, "-o", filepath.Join(out, "capture.parquet"))
	mustSurge(t, "import", "combined", log, "-o", filepath.Join(out, "hive"))
	capture := sampleCapture(t)
	results := filepath.Join(out, "run", "results")
	if _, errs, err := surge(t, "demo", "--from", capture, "--window-to", "3s", "--speed", "10", "--progress", "none",
		"--results", results, "--summary-json", filepath.Join(out, "run", "sum", "summary.json"), "--junit", filepath.Join(out, "run", "junit.xml")); err != nil && !strings.Contains(err.Error(), "threshold") {
		t.Logf("demo: %v\n%s", err, errs) // a loaded machine may fail the generator's verdict; the files are written all the same
	}
	if _, _, err := surge(t, "report", results, "--junit", filepath.Join(out, "report", "junit.xml"), "--threshold", "dropped:count>=0"); err != nil {
		t.Logf("report: %v", err)
	}
	wantFile, wantDir := eventlog.FilePerm(), eventlog.DirPerm()
	n := 0
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := wantFile
		if d.IsDir() {
			want = wantDir
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v; want %v", strings.TrimPrefix(path, dir), got, want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"capture.parquet", "hive", "run/results", "run/sum/summary.json", "run/junit.xml", "report/junit.xml"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Errorf("output %s: %v", p, err)
		}
	}
	// An existing output is replaced only with --force, for report's JUnit
	// file as for every other.
	junit := filepath.Join(out, "report", "junit.xml")
	if _, _, err := surge(t, "report", results, "--junit", junit, "--threshold", "dropped:count>=0"); !isUsage(err) || !strings.Contains(err.Error(), "exists; pass --force") {
		t.Errorf("report over an existing --junit = %v; want a usage error asking for --force", err)
	}
	if _, _, err := surge(t, "report", results, "--junit", junit, "--threshold", "dropped:count>=0", "--force"); err != nil && isUsage(err) {
		t.Errorf("report --force over an existing --junit = %v", err)
	}
	if n < 10 {
		t.Errorf("checked %d paths; want every output (at least 10)", n)
	}
}
