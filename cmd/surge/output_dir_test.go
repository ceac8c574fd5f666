package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileOutputOntoDirectory checks that an output that is one file, given
// an existing (even empty) directory, is refused as a usage error before
// any work, --force or not: the finished file could not be renamed onto it,
// so a whole replay used to run and then fail with "file exists".
func TestFileOutputOntoDirectory(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		// a replay's summary, HTML page or JUnit file
		{"checkFileOutputs", checkFileOutputs(true, map[string]string{"--summary-json": empty})},
		// accounts export and profile synth
		{"checkFileOutput", checkFileOutput(true, empty)},
	} {
		var ee *exitError
		if tc.err == nil || !strings.Contains(tc.err.Error(), "is a directory") {
			t.Errorf("%s: %v; want an error saying it is a directory", tc.name, tc.err)
		} else if tc.name == "checkFileOutputs" && (!errors.As(tc.err, &ee) || ee.code != exitUsage) {
			t.Errorf("%s: %v is not a usage error", tc.name, tc.err)
		}
	}
	// An empty directory is still a fine --results (a hive dataset).
	if err := checkOutputs(false, map[string]string{"--results": empty}); err != nil {
		t.Errorf("checkOutputs(--results empty dir) = %v", err)
	}
	// A new file beside it is fine.
	if err := checkFileOutput(false, filepath.Join(dir, "new.json")); err != nil {
		t.Errorf("checkFileOutput(new file) = %v", err)
	}
	// The command: accounts export onto a directory, before reading the pool.
	_, _, err := surge(t, "accounts", "export", filepath.Join(dir, "no-pool"), "--format", "csv", "-o", empty, "--force")
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("accounts export -o DIR: %v; want 'is a directory'", err)
	}
}
