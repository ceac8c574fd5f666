package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	goldenfile "github.com/surge-replay/surge/internal/golden"
)

const sample = "../../testdata/sample/"

// surge runs the command line in-process and returns its stdout and stderr.
func surge(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	err = root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// unlessBehind returns err, or nil when it is only the verdict that the
// generator fell behind: on a loaded test machine a run of a few requests
// can be 5 ms late, and tests of something else still check its reports.
func unlessBehind(err error) error {
	if err != nil && strings.Contains(err.Error(), "generator fell behind") {
		return nil
	}
	return err
}

// mustSurge is surge that fails the test on error, except the verdict that
// the generator fell behind (unlessBehind): its replays and demos test
// something else, and a run marked behind still writes its reports.
func mustSurge(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, err := surge(t, args...)
	if err := unlessBehind(err); err != nil {
		t.Fatalf("surge %s: %v\n%s", strings.Join(args, " "), err, errs)
	}
	return out
}

// golden compares got with testdata/name (go test -update rewrites it).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "..."
	}
	return string(b)
}

// inspectJSON returns surge inspect --json of path with the output directory
// replaced by OUT, for golden files.
func inspectJSON(t *testing.T, dir, path string) []byte {
	t.Helper()
	out := mustSurge(t, "inspect", "--json", path)
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, out)
	}
	return []byte(strings.ReplaceAll(out, dir, "OUT"))
}

// TestVersion: surge version prints the module version, the commit (with
// +dirty when the build had uncommitted changes) and the Go version.
func TestVersion(t *testing.T) {
	var b bytes.Buffer
	writeVersion(&b, &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Version: "v0.3.0"},
		Settings:  []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-02T18:00:00Z"}, {Key: "vcs.modified", Value: "true"}},
	})
	want := "surge v0.3.0\ncommit abc123+dirty (2026-12-02T18:00:00Z)\ngo1.26.8\n"
	if b.String() != want {
		t.Errorf("version:\n%s\nwant:\n%s", b.String(), want)
	}
	out := mustSurge(t, "version")
	if !strings.HasPrefix(out, "surge ") || !strings.Contains(out, "go1.") {
		t.Errorf("surge version = %q", out)
	}
}
