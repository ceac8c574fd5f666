package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/cobra"
)

// exportStops runs surge accounts export of pool as a signal stops it (the
// command's signal context cancelled while its parent is not): exit 130
// with a sentence, and -o left as it was, with no temporary file beside it.
func exportStops(t *testing.T, pool string) {
	t.Helper()
	dir := t.TempDir()
	old := filepath.Join(dir, "old.jsonl")
	os.WriteFile(old, []byte("the previous export\n"), 0o644)
	for _, c := range []struct {
		name   string
		output string
		force  bool
		want   string // in the error
		keep   string // -o's content afterwards ("": must not exist)
	}{
		// a new file: nothing appears under its name
		{"new file", filepath.Join(dir, "new.jsonl"), false, "accounts export: stopped by a signal (Ctrl-C or SIGTERM); nothing was written", ""},
		// --force over an old export: the old one stays whole
		{"replace", old, true, "nothing was written", "the previous export\n"},
		// standard output: it says the output is cut short
		{"stdout", "", false, "standard output has the accounts written so far", ""},
	} {
		cfg := newConfig()
		cfg.s = &settings{}
		cfg.s.Accounts.Export = accountsExportSettings{Format: "jsonl", Output: c.output, Force: c.force}
		cmd := &cobra.Command{}
		cmd.SetContext(context.Background())
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		signalled, cancel := context.WithCancel(context.Background())
		cancel()
		err := exportAccounts(signalled, cmd, cfg, pool)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitSignal || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want exit %d and %q", c.name, err, exitSignal, c.want)
		}
		if c.output != "" {
			b, rerr := os.ReadFile(c.output)
			if c.keep == "" && !errors.Is(rerr, os.ErrNotExist) || c.keep != "" && string(b) != c.keep {
				t.Errorf("%s: %s holds %q (%v); want %q", c.name, c.output, b, rerr, c.keep)
			}
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("a stopped export left %v", left)
	}
}

// repeatedCredentials: a credentials CSV with one login on two rows is
// refused by surge accounts build --credentials and by replay --accounts,
// each error naming the file, both lines and the login, not the token, and
// no pool is written.
func repeatedCredentials(t *testing.T, views, capture string) {
	t.Helper()
	dir := t.TempDir()
	csv := filepath.Join(dir, "creds.csv")
	os.WriteFile(csv, []byte("account,token\nloadtest-1,secret-a\nloadtest-2,secret-b\nloadtest-1,secret-c\n"), 0o644)
	want := csv + `:4: account "loadtest-1" repeats line 2`
	pool := filepath.Join(dir, "pool")
	_, _, err := surge(t, "accounts", "build", "--views", views, "--ratio-max", "1", "--credentials", csv, "-o", pool)
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
		t.Errorf("accounts build --credentials with a repeated login: %v; want %q and no token", err, want)
	}
	if _, serr := os.Stat(pool); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("a refused build left %s (%v)", pool, serr)
	}
	_, _, err = surge(t, "replay", "--from", capture, "--target", "http://127.0.0.1:9", "--accounts", csv, "--dry-run")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
		t.Errorf("replay --accounts with a repeated login: exit %d, %v; want exit %d, %q and no token", exitCode(err), err, exitUsage, want)
	}
}

// exportSignal runs the surge binary's accounts export of pool (whose
// jsonl export is jsonl bytes) to a pipe that is read one byte and then
// left, so the export blocks mid-way; sends it SIGINT; then drains the
// pipe. The export must stop there: exit 130, the sentence on stderr, and
// less than the whole pool on stdout.
func exportSignal(t *testing.T, pool string, jsonl int64) {
	t.Helper()
	if jsonl < 1<<20 {
		t.Fatalf("the pool's export is %d bytes: too small to block a pipe (want 1 MiB or more)", jsonl)
	}
	bin := buildBinary(t, "surge", ".")
	cmd := exec.Command(bin, "accounts", "export", pool, "--format", "jsonl")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 1)
	if _, err := io.ReadFull(stdout, first); err != nil { // writing, so the signals are caught
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitSignal || !strings.Contains(stderr.String(), "accounts export: stopped by a signal (Ctrl-C or SIGTERM); standard output has the accounts written so far") {
		t.Errorf("export after SIGINT: %v\nstderr: %s; want exit %d and the sentence", err, &stderr, exitSignal)
	}
	if n+1 >= jsonl {
		t.Errorf("export after SIGINT wrote %d of %d bytes; want it stopped mid-way", n+1, jsonl)
	}
}
