package shaper

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/surge-replay/surge/internal/suggest"
)

// KeyError is a problem with one key of written Settings. Path names the
// key as written, from the top of the shape block: "ratios[0].ratio",
// "exits[1].to". A caller that knows where the block came from (a YAML
// file) adds the file and line of Path.
type KeyError struct {
	Path string
	Msg  string
}

// Error returns "ratios[0].ratio: …".
func (e *KeyError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// CheckShape checks a decoded shape block (JSON or YAML decoded into
// map[string]any, []any, strings, numbers, bools and nil) against the keys
// and types of Settings, and returns every problem as a *KeyError: unknown
// keys (with the nearest known key of their mapping), and values of the
// wrong type said as written ("ratio: "ten" is a string; want a number").
// Keys are compared without case, as encoding/json does.
func CheckShape(doc any) []error {
	var errs []error
	checkValue(reflect.TypeOf(Settings{}), doc, "", &errs)
	return errs
}

// requiredKeys are the keys a mapping of a type must have, and what each
// is: their zero value would be a silent choice (a class at ratio 0 drops
// its sessions), and a missing one is most often an edit not finished yet.
var requiredKeys = map[reflect.Type][][2]string{
	reflect.TypeOf(ClassSpec{}): {{"match", `the condition(s) a session's first request must meet ("path=/live/**")`},
		{"ratio", "the class's ratio (0 drops its sessions)"}},
	reflect.TypeOf(RampSpec{}):   {{"from", "the factor before the ramp"}, {"to", "the factor after it"}},
	reflect.TypeOf(SpikeSpec{}):  {{"peak", "the factor at the peak"}},
	reflect.TypeOf(PointSpec{}):  {{"value", "the factor from this point on"}},
	reflect.TypeOf(ExitSpec{}):   {{"fraction", "the fraction of the live sessions to end (0.2)"}},
	reflect.TypeOf(SetSpec{}):    {{"match", `the condition(s) a session's first request must meet ("path=/api/v1/home")`}},
	reflect.TypeOf(Choice{}):     {{"id", "the content id"}, {"weight", "the id's weight (> 0)"}},
	reflect.TypeOf(PrefixSpec{}): {{"from", "the prefix to replace"}, {"to", "the prefix to put instead"}},
}

var (
	durationType = reflect.TypeOf(Duration(0))
	condsType    = reflect.TypeOf(Conds(nil))
)

// checkValue checks v against type t at path.
func checkValue(t reflect.Type, v any, path string, errs *[]error) {
	bad := func(format string, args ...any) {
		*errs = append(*errs, &KeyError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if v == nil {
		return // null: the key's zero value, as encoding/json does
	}
	switch t {
	case durationType:
		switch d := v.(type) {
		case string:
			if _, err := time.ParseDuration(strings.TrimSpace(d)); err != nil {
				bad("%q is not a duration; want like 30s, 5m, 1h30m", d)
			}
		default:
			if _, ok := number(v); !ok {
				bad("%s; want a duration like 30s, 5m, 1h30m", written(v))
			}
		}
		return
	case condsType:
		switch c := v.(type) {
		case string:
		case []any:
			for i, x := range c {
				if _, ok := x.(string); !ok {
					*errs = append(*errs, &KeyError{Path: fmt.Sprintf("%s[%d]", path, i), Msg: fmt.Sprintf("%s; want a condition (\"path=/live/**\")", written(x))})
				}
			}
		default:
			bad("%s; want a condition or a list of conditions (\"path=/live/**\")", written(v))
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		checkValue(t.Elem(), v, path, errs)
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			bad("%s; want a mapping of %s", written(v), strings.Join(fieldNames(t), ", "))
			return
		}
		fields := map[string]reflect.StructField{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if name := jsonName(f); name != "" {
				fields[name] = f
			}
		}
		for _, req := range requiredKeys[t] {
			found := false
			for k := range m {
				found = found || strings.EqualFold(k, req[0])
			}
			if !found {
				*errs = append(*errs, &KeyError{Path: join(path, req[0]), Msg: "missing: " + req[1]})
			}
		}
		for _, k := range sortedKeys(m) {
			kp := join(path, k)
			f, ok := fields[strings.ToLower(k)]
			if !ok {
				*errs = append(*errs, &KeyError{Path: kp, Msg: "unknown key" + nearestOrKnown(k, fieldNames(t))})
				continue
			}
			checkValue(f.Type, m[k], kp, errs)
		}
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			bad("%s; want a list", written(v))
			return
		}
		for i, x := range l {
			checkValue(t.Elem(), x, fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			bad("%s; want a mapping", written(v))
			return
		}
		for _, k := range sortedKeys(m) {
			checkValue(t.Elem(), m[k], join(path, k), errs)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			bad("%s; want a string (quote it)", written(v))
		}
	case reflect.Float64:
		if _, ok := number(v); !ok {
			bad("%s; want a number", written(v))
		}
	case reflect.Int:
		f, ok := number(v)
		if !ok || f != math.Trunc(f) {
			bad("%s; want a whole number", written(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			bad("%s; want true or false", written(v))
		}
	}
}

// number returns v as a float64 when it is a number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// written says what a value is, as the user wrote it.
func written(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q is a string", x)
	case bool:
		return fmt.Sprintf("%v is a boolean", x)
	case map[string]any:
		return "found a mapping"
	case []any:
		return "found a list"
	}
	if _, ok := number(v); ok {
		return fmt.Sprintf("%v is a number", v)
	}
	return fmt.Sprintf("found %v", v)
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	if name == "" {
		name = f.Name
	}
	return strings.ToLower(name)
}

// fieldNames returns the keys of a struct type, in field order.
func fieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if n := jsonName(t.Field(i)); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// nearestOrKnown returns didYouMean's hint for s or, when no candidate is
// near, the known keys.
func nearestOrKnown(s string, candidates []string) string {
	if hint := didYouMean(s, candidates); hint != "" {
		return hint
	}
	return " (known: " + strings.Join(candidates, ", ") + ")"
}

// Nearest returns the candidate nearest to s by edit distance (without
// case), or "" when none is within a third of s's length plus one.
func Nearest(s string, candidates []string) string {
	return suggest.Nearest(s, candidates, strings.ToLower)
}
