package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// checkValues parses every value that comes from the environment (SURGE_*)
// or the config file with the rules of the flag bound to its key, so a value
// the flag would refuse is refused from there too. Without it viper's casts
// turn "50/s" or "5O" into 0, which for --max-rps means no cap at all. It
// returns every bad value, each naming its key, its source and what is
// accepted; the error is a usage error (exit 2).
//
// Flags of other types than those below (strings, string lists, types of
// their own) are taken as they come: their own parsers check them where
// they are used.
func (c *config) checkValues(lines map[string]int) []error {
	keys := make([]string, 0, len(c.flags))
	for k := range c.flags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, key := range keys {
		f := c.flags[key]
		if f.Changed {
			continue // the flag's own parser has seen it
		}
		env := envName(key)
		var raw any
		var source string
		if s := os.Getenv(env); s != "" { // viper, too, takes an empty variable for unset
			raw, source = s, "environment variable "+env
		} else if c.file != "" && c.v.InConfig(key) {
			raw, source = c.v.Get(key), "config "+c.file
			if line := lines[key]; line > 0 {
				source = fmt.Sprintf("config %s:%d", c.file, line)
			}
		} else {
			continue
		}
		if err := checkValue(f, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s (from %s): %w", key, source, err))
		}
	}
	return errs
}

// checkValue parses raw as the value of flag f would be.
func checkValue(f *pflag.Flag, raw any) error {
	typ := f.Value.Type()
	if list, ok := raw.([]any); ok {
		if !strings.HasSuffix(typ, "Slice") && !strings.HasSuffix(typ, "Array") {
			return fmt.Errorf("a list %v where one %s is expected", list, accepted(typ))
		}
		return nil
	}
	s := strings.TrimSpace(fmt.Sprint(raw))
	var err error
	switch typ {
	case "int", "int8", "int16", "int32", "int64":
		_, err = strconv.ParseInt(s, 0, 64)
	case "uint", "uint8", "uint16", "uint32", "uint64":
		_, err = strconv.ParseUint(s, 0, 64)
	case "float32", "float64":
		_, err = strconv.ParseFloat(s, 64)
	case "bool":
		_, err = strconv.ParseBool(s)
	case "duration":
		_, err = time.ParseDuration(s)
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("%q is not %s", s, accepted(typ))
	}
	return nil
}

// accepted says in words what a flag type accepts.
func accepted(typ string) string {
	switch {
	case strings.HasPrefix(typ, "int"):
		return "an integer (like 50)"
	case strings.HasPrefix(typ, "uint"):
		return "a non-negative integer (like 50)"
	case strings.HasPrefix(typ, "float"):
		return "a number (like 50 or 2.5)"
	case typ == "bool":
		return "a boolean (true or false)"
	case typ == "duration":
		return "a duration (like 500ms, 30s, 5m)"
	}
	return "a " + typ
}
