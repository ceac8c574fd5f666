package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// mapKeys are config keys whose value is a map of the user's own names
// (threshold metrics, secret names): anything below them is accepted here
// and checked by the code that reads them.
var mapKeys = map[string]bool{"thresholds": true, "secrets": true, "shape": true}

// plainKeys are config keys read without a flag of their own (from the file
// or SURGE_*): secrets like the scrub key stay off the command line.
var plainKeys = []string{"scrub.key", "scrub.headers", "scrub.query", "scrub.fields", "scrub.users", "report.surge_at", "report.junit"}

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

// checkKeys refuses unknown keys in the config file (naming file:line) and
// unknown SURGE_* variables, each with the nearest known name as a
// suggestion. lines receives the line of every known key in the file, for
// the value errors of checkValues.
func (c *config) checkKeys(lines map[string]int) []error {
	known := make([]string, 0, len(c.flags)+len(mapKeys))
	for k := range c.flags {
		known = append(known, k)
	}
	for k := range mapKeys {
		known = append(known, k)
	}
	for _, k := range plainKeys {
		if _, ok := c.flags[k]; !ok {
			known = append(known, k)
		}
	}
	sort.Strings(known)
	var errs []error
	if c.file != "" {
		errs = append(errs, c.checkFileKeys(known, lines)...)
	}
	envs := map[string]string{}
	names := make([]string, 0, len(known))
	for _, k := range known {
		envs[envName(k)] = k
		names = append(names, envName(k))
	}
	var unknown []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "SURGE_") || toolEnv[name] {
			continue
		}
		if _, ok := envs[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		errs = append(errs, fmt.Errorf("environment variable %s is not a surge setting%s", name, didYouMean(name, names)))
	}
	return errs
}

// checkFileKeys walks the YAML file's mappings: a key is known when it is a
// config key, a section of one ("replay"), or lies under a map key.
func (c *config) checkFileKeys(known []string, lines map[string]int) []error {
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
	leaf := map[string]bool{}
	section := map[string]bool{}
	siblings := map[string][]string{} // parent → its keys and sections
	add := func(path string) {
		parent := ""
		if i := strings.LastIndexByte(path, '.'); i >= 0 {
			parent = path[:i]
		}
		siblings[parent] = append(siblings[parent], path)
	}
	for _, k := range known {
		leaf[k] = true
		add(k)
		parts := strings.Split(k, ".")
		for i := 1; i < len(parts); i++ {
			if s := strings.Join(parts[:i], "."); !section[s] {
				section[s] = true
				add(s)
			}
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
			switch {
			case mapKeys[path]:
				lines[path] = kn.Line
			case leaf[path]:
				lines[path] = kn.Line
			case section[path] && vn.Kind == yaml.MappingNode:
				walk(vn, path)
			case section[path]:
				errs = append(errs, fmt.Errorf("config %s:%d: %s is a section: it holds settings (like %s), not a value", c.file, kn.Line, path, firstUnder(known, path)))
			default:
				errs = append(errs, fmt.Errorf("config %s:%d: unknown key %s%s", c.file, kn.Line, path, didYouMean(path, siblings[prefix])))
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
	best, bestD := "", len(s)/3+2
	norm := func(x string) string { return strings.NewReplacer("-", "_").Replace(strings.ToLower(x)) }
	for _, c := range candidates {
		if d := editDistance(norm(s), norm(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// editDistance is the Levenshtein distance of a and b in bytes (insert,
// delete, substitute; each costs 1). Written here: the one library function
// that has it (cobra's ld) is not exported, and it is ten lines.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
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
	return &exitError{exitUsage, fmt.Errorf("%s\nrun '%s --help' for usage", msg, cmd.CommandPath())}
}
