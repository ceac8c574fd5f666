package main

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/surge-replay/surge/internal/suggest"
)

// toolEnv are SURGE_* variables read by the project's scripts and tests
// (scripts/kafka.sh, make test), not configuration keys of the binary.
var toolEnv = map[string]bool{
	"SURGE_PYTHON": true, "SURGE_KAFKA_BROKERS": true, "SURGE_KAFKA_PORT": true,
	"SURGE_KAFKA_STATE": true, "SURGE_KAFKA_HEAP": true, "SURGE_KAFKA_CACHE": true,
	"SURGE_KAFKA_READY_TIMEOUT": true,
}

// envName is the SURGE_* variable of a config key ("replay.max_rps" →
// SURGE_REPLAY_MAX_RPS).
func envName(key string) string {
	return "SURGE_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

// checkEnv refuses unknown SURGE_* variables, each with the nearest
// setting's variable as a suggestion.
func (c *config) checkEnv() []error {
	envs := map[string]bool{}
	var names []string
	for _, k := range settingKeys() {
		envs[envName(k)] = true
		names = append(names, envName(k))
	}
	var unknown []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "SURGE_") && !toolEnv[name] && !envs[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	var errs []error
	for _, name := range unknown {
		// SURGE_RATIO: the variable names the section too; that hint
		// comes first (SURGE_REGIONS is near by edit distance, not meant).
		var hint string
		var ends []string
		for _, n := range names {
			if strings.HasSuffix(n, "_"+strings.TrimPrefix(name, "SURGE_")) {
				ends = append(ends, n)
			}
		}
		if len(ends) > 0 {
			hint = fmt.Sprintf(" (did you mean %s?)", strings.Join(ends, " or "))
		} else {
			hint = didYouMean(name, names)
		}
		errs = append(errs, fmt.Errorf("environment variable %s is not a surge setting%s", name, hint))
	}
	return errs
}

// indexFile records the line of every key in the YAML file (c.lines), for
// the errors of decode, and refuses a file of the wrong shape: not a
// mapping, or a value where a section of settings belongs. Unknown keys
// are decode's (mapstructure's ErrorUnused).
func (c *config) indexFile() []error {
	data, err := os.ReadFile(c.file)
	if err != nil {
		return []error{fmt.Errorf("config %s: %w", c.file, err)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []error{fmt.Errorf("config %s: %w", c.file, err)}
	}
	if len(doc.Content) == 0 {
		return nil // an empty file
	}
	keys := settingKeys()
	leaf := map[string]bool{}
	for _, k := range keys {
		leaf[k] = true
	}
	section := map[string]bool{}
	for _, p := range c.knownPaths() {
		if !leaf[p] {
			section[p] = true
		}
	}
	var errs []error
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind != yaml.MappingNode {
			if prefix == "" {
				errs = append(errs, fmt.Errorf("config %s:%d: the file must be a mapping of settings (like replay: {ratio: 3})", c.file, n.Line))
			}
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			path := strings.ToLower(kn.Value) // viper's keys are case-insensitive
			if prefix != "" {
				path = prefix + "." + path
			}
			if _, seen := c.lines[path]; !seen {
				c.lines[path] = kn.Line
			}
			switch {
			case leaf[path]: // a map key (thresholds:) holds the user's own names
			case section[path] && vn.Kind != yaml.MappingNode:
				example := strings.TrimPrefix(firstUnder(keys, path), path+".")
				errs = append(errs, fmt.Errorf("config %s:%d: %s is a section, not a value (found %q): write its settings under it, one \"key: value\" a line, indented (like \"  %s: ...\")", c.file, kn.Line, path, vn.Value, example))
			default:
				walk(vn, path)
			}
		}
	}
	walk(doc.Content[0], "")
	return errs
}

// firstUnder returns the first known key in section s.
func firstUnder(known []string, s string) string {
	for _, k := range known {
		if strings.HasPrefix(k, s+".") {
			return k
		}
	}
	return s
}

// didYouMean returns ` (did you mean "x"?)` for the candidate nearest to s
// by edit distance, or "" when none is near (more than a third of s).
func didYouMean(s string, candidates []string) string {
	norm := func(x string) string { return strings.NewReplacer("-", "_").Replace(strings.ToLower(x)) }
	best := suggest.Nearest(s, candidates, norm)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// badFlagValue matches pflag's error for a value its parser refused.
var badFlagValue = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-[a-zA-Z], )?--([a-z0-9-]+)" flag: `)

// flagTypes are the Go types of pflag's value types, for accepted.
var flagTypes = map[string]reflect.Type{
	"int": reflect.TypeOf(0), "int64": reflect.TypeOf(int64(0)), "uint64": reflect.TypeOf(uint64(0)),
	"float64": reflect.TypeOf(0.0), "bool": reflect.TypeOf(false), "duration": durationType,
}

// flagError makes cobra's flag errors usage errors (exit 2) and adds a
// suggestion to an unknown flag: "unknown flag: --max-rsp (did you mean
// --max-rps?)".
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		var names []string
		cmd.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
		if s := didYouMean(name, names); s != "" {
			msg += strings.Replace(s, "mean ", "mean --", 1)
		}
	}
	if m := badFlagValue.FindStringSubmatch(msg); m != nil {
		// pflag's "invalid argument "50/s" for "--max-rps" flag:
		// strconv.ParseFloat: …" said as the file and the environment say it.
		if f := cmd.Flags().Lookup(m[2]); f != nil {
			if t, ok := flagTypes[f.Value.Type()]; ok {
				msg = fmt.Sprintf("--%s %s", m[2], (&valueError{value: m[1], want: accepted(t)}).Error())
			}
		}
	}
	return &exitError{exitUsage, fmt.Errorf("%s\nrun '%s --help' for usage", msg, cmd.CommandPath())}
}
