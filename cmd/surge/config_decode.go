package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// decode decodes every key, whichever of flag, environment, file or default
// gives its value (viper's precedence), into a settings value through one
// strict decoder: mapstructure with ErrorUnused (a key in the file that
// settings has no field for is an error) and strictHook, which parses
// every scalar with the rules of the key's flag. A flag's value arrives as
// the flag's own string, so it passes the same parser the environment and
// the file do. It returns every problem: unknown keys (file:line, with a
// suggestion), values that do not parse and values settings.Validate
// refuses, each naming its key and source.
func (c *config) decode() (*settings, []error) {
	s := &settings{}
	err := c.v.Unmarshal(s, viper.DecodeHook(mapstructure.DecodeHookFuncType(strictHook)), func(dc *mapstructure.DecoderConfig) {
		dc.ErrorUnused = true
		dc.WeaklyTypedInput = false
	})
	var errs []error
	for _, e := range flatten(err) {
		de, ok := e.(*mapstructure.DecodeError)
		if !ok {
			errs = append(errs, e)
			continue
		}
		inner := de.Unwrap()
		// ErrorUnused: "has invalid keys: a, b" under the section de names.
		if list, ok := strings.CutPrefix(inner.Error(), "has invalid keys: "); ok {
			for _, k := range strings.Split(list, ", ") {
				if de.Name() != "" {
					k = de.Name() + "." + k
				}
				errs = append(errs, c.unknownKey(k))
			}
			continue
		}
		errs = append(errs, c.keyErr(de.Name(), inner.Error()))
	}
	if len(errs) > 0 {
		return nil, errs // a value that did not parse is zero in s: don't judge it
	}
	for _, e := range s.Validate() {
		var ke *keyError
		if errors.As(e, &ke) {
			e = c.keyErr(ke.Key, ke.Msg)
		}
		errs = append(errs, e)
	}
	return s, errs
}

// flatten returns the leaves of mapstructure's error: its DecodeErrors,
// joined, under one wrapping ("decoding failed due to …").
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*mapstructure.DecodeError); ok {
		return []error{err}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if u := errors.Unwrap(err); u != nil {
		return flatten(u)
	}
	return []error{err}
}

// keyErr says msg about key with where its value came from: "--speed 0:
// …" for a flag, "replay.speed (from config c.yaml:3): 0: …" for the file,
// "… (from environment variable SURGE_REPLAY_SPEED): …" for the
// environment, "replay.speed: …" for a default.
func (c *config) keyErr(key, msg string) error {
	if f := c.flags[key]; f != nil && f.Changed {
		return fmt.Errorf("--%s %s", f.Name, msg)
	}
	if src := c.source(key); src != "" {
		return fmt.Errorf("%s (from %s): %s", key, src, msg)
	}
	return fmt.Errorf("%s: %s", key, msg)
}

// label names a key as the user gave it, for errors found where its value
// is used: "--results" for a flag (or a default), "replay.results (from
// config c.yaml:3)" or "… (from environment variable SURGE_…)" otherwise.
func (c *config) label(key string) string {
	f := c.flags[key]
	if f != nil && f.Changed {
		return "--" + f.Name
	}
	if src := c.source(key); src != "" {
		return fmt.Sprintf("%s (from %s)", key, src)
	}
	if f != nil {
		return "--" + f.Name
	}
	return key
}

// source names where a key's value comes from when no flag set it: its
// SURGE_* variable or the config file (file:line), "" for a default.
func (c *config) source(key string) string {
	env := envName(key)
	if os.Getenv(env) != "" { // viper, too, takes an empty variable for unset
		return "environment variable " + env
	}
	if c.file != "" && c.v.InConfig(key) {
		if line := c.lines[key]; line > 0 {
			return fmt.Sprintf("config %s:%d", c.file, line)
		}
		return "config " + c.file
	}
	return ""
}

// unknownKey is the error of a key in the file that is no setting, with
// its line and the nearest setting of its section.
func (c *config) unknownKey(key string) error {
	parent := ""
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		parent = key[:i]
	}
	var siblings []string
	for _, k := range c.knownPaths() {
		p := ""
		if i := strings.LastIndexByte(k, '.'); i >= 0 {
			p = k[:i]
		}
		if p == parent {
			siblings = append(siblings, k)
		}
	}
	where := "config " + c.file
	if line := c.lines[key]; line > 0 {
		where = fmt.Sprintf("config %s:%d", c.file, line)
	}
	return fmt.Errorf("%s: unknown key %s%s", where, key, didYouMean(key, siblings))
}

// valueError is a scalar that does not parse as its key's type.
type valueError struct {
	value string // as given
	want  string // what is accepted, in words
	list  bool   // a list or a map was given for one value
}

func (e *valueError) Error() string {
	if e.list {
		return fmt.Sprintf("a list or map %s where one %s is expected", e.value, e.want)
	}
	return fmt.Sprintf("%q is not %s", e.value, e.want)
}

var (
	durationType    = reflect.TypeOf(time.Duration(0))
	stringArrayType = reflect.TypeOf(stringArray(nil))
)

// strictHook converts a value from the file, the environment, a flag or a
// default to the type of its settings field with the parsers pflag uses
// for that type of flag (strconv with base 0 for integers,
// time.ParseDuration, strconv.ParseBool, comma-separated values for a
// list), so "50/s", "5O", "three" or 30 for a duration are errors, never a
// zero. mapstructure names the key in its error; config.decode adds the
// source.
func strictHook(from, to reflect.Type, data any) (any, error) {
	if data == nil {
		return nil, nil
	}
	switch {
	case to == durationType:
		s, err := scalar(data, to)
		if err != nil {
			return nil, err
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, &valueError{value: s, want: accepted(to)}
		}
		return d, nil
	case to == stringArrayType:
		if s, ok := data.(string); ok {
			return stringArray{s}, nil
		}
		return scalars(data, to)
	}
	switch to.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s, err := scalar(data, to)
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(s, 0, to.Bits())
		if err != nil {
			return nil, &valueError{value: s, want: accepted(to)}
		}
		return reflect.ValueOf(n).Convert(to).Interface(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s, err := scalar(data, to)
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseUint(s, 0, to.Bits())
		if err != nil {
			return nil, &valueError{value: s, want: accepted(to)}
		}
		return reflect.ValueOf(n).Convert(to).Interface(), nil
	case reflect.Float32, reflect.Float64:
		s, err := scalar(data, to)
		if err != nil {
			return nil, err
		}
		x, err := strconv.ParseFloat(s, to.Bits())
		if err != nil {
			return nil, &valueError{value: s, want: accepted(to)}
		}
		return reflect.ValueOf(x).Convert(to).Interface(), nil
	case reflect.Bool:
		s, err := scalar(data, to)
		if err != nil {
			return nil, err
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, &valueError{value: s, want: accepted(to)}
		}
		return b, nil
	case reflect.String:
		return scalar(data, to)
	case reflect.Slice:
		if to.Elem().Kind() != reflect.String {
			return data, nil
		}
		if s, ok := data.(string); ok { // a variable or a flag's string: CSV, as pflag's stringSlice
			if strings.TrimSpace(s) == "" {
				return []string{}, nil
			}
			items, err := csv.NewReader(strings.NewReader(s)).Read()
			if err != nil {
				return nil, &valueError{value: s, want: accepted(to)}
			}
			for i := range items {
				items[i] = strings.TrimSpace(items[i])
			}
			return items, nil
		}
		return scalars(data, to)
	case reflect.Map:
		v := reflect.ValueOf(data)
		if v.Kind() != reflect.Map {
			return nil, &valueError{value: fmt.Sprint(data), want: accepted(to)}
		}
		if to.Elem().Kind() != reflect.String {
			return data, nil // thresholds: checked by the code that reads them
		}
		out := map[string]string{}
		iter := v.MapRange()
		for iter.Next() {
			s, err := scalar(iter.Value().Interface(), to.Elem())
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(iter.Key().Interface())] = s
		}
		return out, nil
	case reflect.Struct:
		if reflect.ValueOf(data).Kind() != reflect.Map {
			return nil, &valueError{value: fmt.Sprint(data), want: "a section of settings (like replay: {ratio: 3})"}
		}
	}
	return data, nil
}

// scalar returns data, one value, as its string (a YAML number or boolean
// as written), or an error for a list or a map.
func scalar(data any, to reflect.Type) (string, error) {
	switch reflect.ValueOf(data).Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		if to.Kind() == reflect.Slice { // an element of a list
			return "", &valueError{value: fmt.Sprint(data), want: "a list of single values", list: true}
		}
		return "", &valueError{value: fmt.Sprint(data), want: accepted(to), list: true}
	}
	return strings.TrimSpace(fmt.Sprint(data)), nil
}

// scalars returns a YAML list (or a []string) as strings.
func scalars(data any, to reflect.Type) (any, error) {
	v := reflect.ValueOf(data)
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return nil, &valueError{value: fmt.Sprint(data), want: accepted(to)}
	}
	out := make([]string, v.Len())
	for i := range out {
		s, err := scalar(v.Index(i).Interface(), to)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	if to == stringArrayType {
		return stringArray(out), nil
	}
	return out, nil
}

// accepted says in words what a value of type t may be.
func accepted(t reflect.Type) string {
	if t == durationType {
		return "a duration (like 500ms, 30s, 5m)"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer (like 50)"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer (like 50)"
	case reflect.Float32, reflect.Float64:
		return "a number (like 50 or 2.5)"
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.String:
		return "a value (a string)"
	case reflect.Slice:
		return "a list (like [a, b], or a,b in a variable)"
	case reflect.Map:
		return "a map of names to values"
	}
	return "a " + t.String()
}

// knownPaths returns every key and section of settings ("replay",
// "replay.max_rps"), from its mapstructure tags.
func (c *config) knownPaths() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			p := f.Tag.Get("mapstructure")
			if prefix != "" {
				p = prefix + "." + p
			}
			out = append(out, p)
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				walk(f.Type, p)
			}
		}
	}
	walk(reflect.TypeOf(settings{}), "")
	sort.Strings(out)
	return out
}

// settingKeys returns the keys of settings that hold values (not sections).
func settingKeys() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			p := f.Tag.Get("mapstructure")
			if prefix != "" {
				p = prefix + "." + p
			}
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, p)
			} else {
				out = append(out, p)
			}
		}
	}
	walk(reflect.TypeOf(settings{}), "")
	sort.Strings(out)
	return out
}
