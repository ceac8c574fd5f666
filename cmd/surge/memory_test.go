package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/internal/synth"
)

// maxImportRSS bounds the peak memory of importing a large log: memory is
// bounded by the re-order window, live sessions and one row-group chunk, not
// by the size of the log.
const maxImportRSS = 200 << 20

// TestImportMillionLinesBoundedMemory builds surge, imports a 1M-line
// combined log (228 MB) and checks the process's peak RSS. Speed is measured
// by make bench, not here.
func TestImportMillionLinesBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds surge and imports 1M lines")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "surge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	log := filepath.Join(dir, "big.log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WriteCombined(f, 1_000_000, 1, 5000); err != nil {
		t.Fatal(err)
	}
	f.Close()

	cmd := exec.Command(bin, "import", "combined", log, "-o", filepath.Join(dir, "big.parquet"))
	cmd.Env = append(os.Environ(), "SURGE_SCRUB_KEY=test-key")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "imported 1,000,000 events") {
		t.Fatalf("import output:\n%s", out)
	}
	// The import reports its own peak RSS (VmHWM): the rusage seen here
	// would include this test binary's memory, which the child shared
	// between fork and exec.
	m := regexp.MustCompile(`peak RSS (\d+) MiB`).FindStringSubmatch(string(out))
	if m == nil {
		t.Skipf("no peak RSS in the import's output (not Linux?):\n%s", out)
	}
	rss, _ := strconv.ParseInt(m[1], 10, 64)
	t.Logf("1M lines in %v, peak RSS %d MiB", time.Since(start).Round(time.Millisecond), rss)
	if rss<<20 > maxImportRSS {
		t.Errorf("peak RSS importing 1M lines = %d MiB; want <= %d MiB", rss, maxImportRSS>>20)
	}
}
