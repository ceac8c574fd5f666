package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigValuesAreStrict: a value from the config file or the environment
// that the key's flag would refuse is a usage error naming the key and its
// source, never a silent zero (for max_rps, zero means no cap).
func TestConfigValuesAreStrict(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string // config file contents, "" for none
		env  [2]string
		want []string // substrings of the error
	}{
		// The case: a rate with a unit turned the cap off.
		{name: "yaml rate with unit", yaml: "replay:\n  max_rps: 50/s\n", want: []string{"replay.max_rps", "config ", `"50/s" is not a number`}},
		// A letter O for a zero, from the environment.
		{name: "env typo", env: [2]string{"SURGE_REPLAY_MAX_RPS", "5O"}, want: []string{"replay.max_rps", "environment variable SURGE_REPLAY_MAX_RPS", `"5O"`}},
		// A ratio in words ran "successfully" with nothing sent.
		{name: "ratio in words", yaml: "replay:\n  ratio: three\n", want: []string{"replay.ratio", `"three" is not a number`}},
		// Durations need a unit.
		{name: "duration without unit", yaml: "replay:\n  timeout: 30\n", want: []string{"replay.timeout", "a duration"}},
		// A list where one value is expected.
		{name: "list for a number", yaml: "replay:\n  speed: [1, 2]\n", want: []string{"replay.speed", "a list"}},
		// Every bad value is reported, not only the first.
		{name: "two bad values", yaml: "replay:\n  ratio: x\n  speed: y\n", want: []string{"replay.ratio", "replay.speed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"replay"}
			if tc.yaml != "" {
				path := filepath.Join(t.TempDir(), "c.yaml")
				if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--config", path)
			}
			if tc.env[0] != "" {
				t.Setenv(tc.env[0], tc.env[1])
			}
			_, _, err := surge(t, args...)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != exitUsage {
				t.Fatalf("surge %v = %v; want a usage error (exit 2)", args, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q; want it to say %q", err, w)
				}
			}
		})
	}
}

// TestConfigsLoadStrictly: the example configs pass the strict check.
func TestConfigsLoadStrictly(t *testing.T) {
	files, err := filepath.Glob("../../configs/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("configs: %v %v", files, err)
	}
	for _, f := range files {
		// inspect of a missing file fails after the config is loaded.
		_, _, err := surge(t, "inspect", "--config", f, filepath.Join(t.TempDir(), "none.parquet"))
		if err == nil || strings.Contains(err.Error(), "(from ") {
			t.Errorf("%s: %v; want only the missing capture's error", f, err)
		}
	}
}
