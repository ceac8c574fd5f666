package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
		// An unknown variable does not hide a bad value in the file.
		{name: "variable and value", yaml: "replay:\n  ratio: x\n", env: [2]string{"SURGE_REPLAY_MAX_RSP", "5"}, want: []string{"SURGE_REPLAY_MAX_RSP", "replay.ratio"}},
		// Every value that parses but means nothing is reported at once.
		{name: "all semantic errors", yaml: "replay:\n  speed: 0\n  loop: 0\n  max_rps: -1\n", want: []string{"replay.speed", "replay.loop", "replay.max_rps", "c.yaml:2", "c.yaml:3", "c.yaml:4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"replay"}
			err := surgeWithConfig(t, args, tc.yaml, tc.env)
			wantUsage(t, args, err, tc.want...)
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
		if err == nil || strings.Contains(err.Error(), "(from ") || strings.Contains(err.Error(), "unknown key") {
			t.Errorf("%s: %v; want only the missing capture's error", f, err)
		}
	}
}

// TestConfigKeysAreChecked: unknown names in the file, the environment or
// the command line are usage errors with the nearest known name suggested,
// and a value error in the file names its line.
func TestConfigKeysAreChecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		env  [2]string
		args []string
		want []string
	}{
		// A dash where viper wants an underscore: silently ignored before.
		{name: "dashed key", yaml: "replay:\n  max-rps: 50\n", want: []string{"c.yaml:2", "unknown key replay.max-rps", "did you mean replay.max_rps"}},
		// A typo in a section name.
		{name: "section typo", yaml: "replya:\n  ratio: 3\n", want: []string{"c.yaml:1", "unknown key replya", "did you mean replay"}},
		// A value where a section is expected.
		{name: "section as value", yaml: "replay: 3\n", want: []string{"c.yaml:1", "replay is a section"}},
		// A missing colon makes the section a string.
		{name: "key without colon", yaml: "replay:\n  ratio 3\n", want: []string{"c.yaml:1", "replay is a section, not a value (found \"ratio 3\")", "key: value"}},
		// A variable without its section.
		{name: "env without section", env: [2]string{"SURGE_RATIO", "3"}, want: []string{"SURGE_RATIO is not a surge setting", "did you mean SURGE_REPLAY_RATIO or SURGE_RUN_START_RATIO"}},
		// A config file that is not there.
		{name: "missing file", args: []string{"--config", "/nonexistent/c.yaml"}, want: []string{"config /nonexistent/c.yaml"}},
		// An environment variable with a typo.
		{name: "env typo", env: [2]string{"SURGE_REPLAY_MAX_RSP", "5"}, want: []string{"SURGE_REPLAY_MAX_RSP is not a surge setting", "did you mean SURGE_REPLAY_MAX_RPS"}},
		// A flag with a typo.
		{name: "flag typo", args: []string{"--max-rsp", "5"}, want: []string{"unknown flag: --max-rsp", "did you mean --max-rps"}},
		// A bad value names the file and line.
		{name: "value line", yaml: "replay:\n  seed: 1\n  ratio: three\n", want: []string{"replay.ratio (from config ", "c.yaml:3)"}},
		// Keys under a map key are the user's own (checked where read).
		{name: "map keys pass", yaml: "secrets:\n  my_own_name: x\nreplay:\n  ratioo: 1\n", want: []string{"replay.ratioo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"replay"}, tc.args...)
			err := surgeWithConfig(t, args, tc.yaml, tc.env)
			wantUsage(t, args, err, tc.want...)
			if strings.Contains(err.Error(), "my_own_name") {
				t.Errorf("error %q names a key under secrets:", err)
			}
		})
	}
}

// TestSettingsAreTheKeys: the typed settings hold exactly the keys the
// commands bind flags to, plus the keys that have no flag (the scrub key
// stays off the command line; maps of the user's own names), and no
// command reads viper past the decoder.
func TestSettingsAreTheKeys(t *testing.T) {
	_, cfg := newRoot()
	noFlag := map[string]bool{"scrub.key": true, "thresholds": true, "secrets": true, "shape": true, "regions": true, "dns.ttl": true, "accounts.token_key": true, "websocket": true}
	inSettings := map[string]bool{}
	for _, k := range settingKeys() {
		inSettings[k] = true
		if cfg.flags[k] == nil && !noFlag[k] {
			t.Errorf("settings has key %s, which no flag is bound to: bind one or list it in noFlag", k)
		}
	}
	for k := range cfg.flags {
		if !inSettings[k] {
			t.Errorf("flag --%s is bound to key %s, which settings has no field for", cfg.flags[k].Name, k)
		}
	}
	files, _ := filepath.Glob("*.go")
	viperUse := regexp.MustCompile(`cfg\.v\b|\bv\.Get[A-Za-z]*\(`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasPrefix(f, "config") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if loc := viperUse.FindIndex(src); loc != nil {
			t.Errorf("%s reads viper (%q): read the decoded settings (cfg.s) instead", f, src[loc[0]:loc[1]])
		}
	}
}

// TestReplayRefusesBadValuesUpFront: values that used to mean something else
// silently (speed 0 as 1x) or gave two errors for one mistake are one usage
// error, said plainly, before anything is read or sent.
func TestReplayRefusesBadValuesUpFront(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
		not  string // a second message that must not appear
	}{
		// Speed 0 used to replay at 1x.
		{[]string{"--speed", "0"}, "--speed 0: want a positive speed", ""},
		// Zero passes sent nothing and "passed".
		{[]string{"--loop", "0"}, "--loop 0: want 1 to 1000 passes", ""},
		// A target without a scheme: say which URL is meant, once.
		{[]string{"--target", "127.0.0.1:8080"}, "the target needs a scheme: http://127.0.0.1:8080", "target: missing"},
		// An output that cannot be written is found before the run.
		{[]string{"--summary-json", "/proc/version/summary.json"}, "--summary-json /proc/version/summary.json", ""},
		// An existing output is not replaced without --force.
		{[]string{"--results", "/proc/version"}, "--results /proc/version: exists; pass --force", ""},
		// --from names captures; a time there is the window's start, said so.
		{[]string{"--from", "19:55"}, "--from 19:55 is a time, not a capture: the window's start is --window-from 19:55", ""},
		// --http2 would be ignored by the lean driver.
		{[]string{"--http2", "--driver", "lean"}, "HTTP/2 needs the http driver", ""},
		// A scheme that is not HTTP.
		{[]string{"--target", "ftp://127.0.0.1/"}, `scheme "ftp" is not http or https`, ""},
	} {
		args := append([]string{"replay", "--from", filepath.Join(t.TempDir(), "none.parquet")}, tc.args...)
		if !slices.Contains(tc.args, "--target") {
			args = append(args, "--target", "http://127.0.0.1:1")
		}
		_, _, err := surge(t, args...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage {
			t.Errorf("surge %v = %v; want a usage error (exit 2)", args, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("surge %v: %q; want it to say %q", args, err, tc.want)
		}
		if tc.not != "" && strings.Contains(err.Error(), tc.not) {
			t.Errorf("surge %v: %q also says %q", args, err, tc.not)
		}
	}
}

// surgeWithConfig runs surge with args, a config file of yaml (when not
// empty) and the environment variable env[0]=env[1] (when named).
func surgeWithConfig(t *testing.T, args []string, yaml string, env [2]string) error {
	t.Helper()
	if yaml != "" {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", path)
	}
	if env[0] != "" {
		t.Setenv(env[0], env[1])
	}
	_, _, err := surge(t, args...)
	return err
}

// wantUsage fails the test unless err is a usage error (exit 2) saying
// every one of want.
func wantUsage(t *testing.T, args []string, err error, want ...string) {
	t.Helper()
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage {
		t.Fatalf("surge %v = %v; want a usage error (exit 2)", args, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q; want it to say %q", err, w)
		}
	}
}

// TestEveryFlagIsAKey: every flag of every command is a config key too (so
// also a YAML key and a SURGE_* variable), except --config itself and the
// hidden profiling flags; surge demo's flags are replay's keys, bound when
// it runs.
func TestEveryFlagIsAKey(t *testing.T) {
	root, cfg := newRoot()
	bound := map[*pflag.Flag]bool{}
	for _, f := range cfg.flags {
		bound[f] = true
	}
	replayKeys := map[string]bool{}
	for k, f := range cfg.flags {
		if strings.HasPrefix(k, "replay.") || k == "targets.allow" {
			replayKeys[f.Name] = true
		}
	}
	notKeys := map[string]bool{"config": true, "cpuprofile": true, "memprofile": true, "trace": true}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			switch {
			case bound[f], notKeys[f.Name]:
			case c.Name() == "demo" && replayKeys[f.Name]:
			default:
				t.Errorf("%s --%s is bound to no config key: bind it (cfg.bindAll) and give settings a field", c.CommandPath(), f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
