package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// FuzzStrictHookAgreesWithFlags: a value from the file or the environment
// is accepted exactly when the key's flag would accept it (after trimming
// spaces, which a variable set from a file often ends with), and decodes to
// the same value: one set of rules, whichever way a value comes.
func FuzzStrictHookAgreesWithFlags(f *testing.F) {
	for _, s := range []string{"50", "50/s", "5O", "0x10", "-1", "2.5", "1e3", "true", "yes", "30", "30s", "1h30m", " 7 ", "", "NaN", "+Inf", "0b101", "1_000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		flags := map[string]reflect.Type{}
		fs.Int("int", 0, "")
		flags["int"] = reflect.TypeOf(0)
		fs.Int64("int64", 0, "")
		flags["int64"] = reflect.TypeOf(int64(0))
		fs.Uint64("uint64", 0, "")
		flags["uint64"] = reflect.TypeOf(uint64(0))
		fs.Float64("float64", 0, "")
		flags["float64"] = reflect.TypeOf(0.0)
		fs.Bool("bool", false, "")
		flags["bool"] = reflect.TypeOf(false)
		fs.Duration("duration", 0, "")
		flags["duration"] = reflect.TypeOf(time.Duration(0))
		for name, typ := range flags {
			flagErr := fs.Set(name, strings.TrimSpace(s))
			got, hookErr := strictHook(reflect.TypeOf(""), typ, s)
			if (flagErr == nil) != (hookErr == nil) {
				t.Fatalf("%s %q: flag error %v, decoder error %v; want both or neither", name, s, flagErr, hookErr)
			}
			if flagErr != nil {
				continue
			}
			var want any
			switch name {
			case "int":
				want, _ = fs.GetInt(name)
			case "int64":
				want, _ = fs.GetInt64(name)
			case "uint64":
				want, _ = fs.GetUint64(name)
			case "float64":
				want, _ = fs.GetFloat64(name)
			case "bool":
				want, _ = fs.GetBool(name)
			case "duration":
				want, _ = fs.GetDuration(name)
			}
			if w, ok := want.(float64); ok && w != w { // NaN
				if g, ok := got.(float64); ok && g != g {
					continue
				}
			}
			if got != want {
				t.Fatalf("%s %q: decoder %v (%T), flag %v (%T); want the same", name, s, got, got, want, want)
			}
		}
	})
}

// TestStrictHookShapes: a list or a map where one value belongs, and a
// scalar where a list or a map belongs, are errors that say so; YAML lists
// of scalars and comma-separated variables are lists.
func TestStrictHookShapes(t *testing.T) {
	str, strs, num := reflect.TypeOf(""), reflect.TypeOf([]string(nil)), reflect.TypeOf(0.0)
	for _, tc := range []struct {
		name string
		to   reflect.Type
		in   any
		want any    // the decoded value, when no error
		err  string // a word of the error
	}{
		// A YAML list for one number.
		{"list for number", num, []any{1, 2}, nil, "a list or map"},
		// A YAML map for a string.
		{"map for string", str, map[string]any{"a": 1}, nil, "a list or map"},
		// A YAML number for a string is its text.
		{"number for string", str, 8080, "8080", ""},
		// A variable's comma-separated list, as the flag takes it.
		{"csv", strs, "a, b,c", []string{"a", "b", "c"}, ""},
		// A YAML list of scalars.
		{"yaml list", strs, []any{"x", 2}, []string{"x", "2"}, ""},
		// A YAML list holding a list.
		{"nested list", strs, []any{[]any{"x"}}, nil, "a list of single values"},
		// A stringArray takes a variable as one item (a threshold has commas).
		{"array from variable", stringArrayType, "p(99)<500,abort_on_fail", stringArray{"p(99)<500,abort_on_fail"}, ""},
		// A map of strings from YAML.
		{"secrets", reflect.TypeOf(map[string]string(nil)), map[string]any{"k": 1}, map[string]string{"k": "1"}, ""},
		// A string where a map belongs.
		{"string for map", reflect.TypeOf(map[string]string(nil)), "k=v", nil, "a map"},
	} {
		got, err := strictHook(reflect.TypeOf(tc.in), tc.to, tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: strictHook(%v) = %v, %v; want an error saying %q", tc.name, tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: strictHook(%v) = %#v, %v; want %#v", tc.name, tc.in, got, err, tc.want)
		}
	}
}

// TestConfigSyntaxError: a config file YAML cannot parse is a usage error
// naming the file and the parser's line, without viper's wrapper.
func TestConfigSyntaxError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("replay:\n  speed: [1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := surge(t, "replay", "--config", path, "--from", "x.parquet", "--dry-run")
	if code := exitCode(err); code != exitUsage || err == nil ||
		!strings.Contains(err.Error(), "config "+path+": yaml: line") || strings.Contains(err.Error(), "While parsing") {
		t.Errorf("surge replay --config bad.yaml: exit %d, %v; want exit %d, config %s: yaml: line …", code, err, exitUsage, path)
	}
}
