package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Metrics a threshold can name, and the aggregations each allows:
//
//	latency_ms    trend: p(N) avg min max med count   from the intended time, ms
//	service_ms    trend: the same                       from the send time, ms
//	lateness_ms   trend: the same                       send − intended, ms
//	errors        rate, count   sent requests that failed (any class, 4xx and 5xx included) / sent
//	new_errors    rate, count   errors less the responses whose status the capture recorded too
//	dropped       rate, count   requests never sent / scheduled
//	achieved_rps  value         sent / the run's duration_s
var thresholdMetrics = map[string][]string{
	"latency_ms":   trendAggs,
	"service_ms":   trendAggs,
	"lateness_ms":  trendAggs,
	"errors":       {"rate", "count"},
	"new_errors":   {"rate", "count"},
	"dropped":      {"rate", "count"},
	"achieved_rps": {"value"},
}

var trendAggs = []string{"p", "avg", "min", "max", "med", "count"}

// thresholdTags are the tags a threshold may filter on (see Tag).
var thresholdTags = []string{"route", "method", "status", "cohort", "region"}

// Threshold is one pass/fail criterion on a metric of a run, in k6's form:
// a metric with optional tags, an aggregation, a comparison and a bound.
//
//	latency_ms{route:/api/search,method:GET}: p(99)<500
//	errors: rate<0.01
//
// A threshold whose tags match no result has no data: it fails at the end of
// the run unless NoDataPasses (it never aborts a run).
type Threshold struct {
	// Metric is one of latency_ms, service_ms, lateness_ms, errors,
	// new_errors, dropped, achieved_rps.
	Metric string `json:"-"`
	// Tags filter the results the metric is of, sorted by name; all must
	// match.
	Tags []Tag `json:"-"`
	// Agg is the aggregation: p (with P), avg, min, max, med, rate, count
	// or value.
	Agg string `json:"-"`
	// P is the percentile of Agg "p", in (0, 100].
	P float64 `json:"-"`
	// Op is <, <=, >, >=, == or !=.
	Op string `json:"-"`
	// Bound is the number the aggregate is compared with (ms for trends, a
	// fraction for rates).
	Bound float64 `json:"-"`
	// AbortOnFail stops the run as soon as the threshold fails while it
	// runs (k6's abortOnFail).
	AbortOnFail bool `json:"abort_on_fail"`
	// DelayAbortEval is how long after the run's start AbortOnFail waits
	// before it first looks (k6's delayAbortEval). Zero means at once.
	DelayAbortEval time.Duration `json:"-"`
	// NoDataPasses makes a threshold without data pass instead of fail.
	NoDataPasses bool `json:"-"`
}

// Tag is a name:value filter of a threshold's metric:
//
//	route    a route group ("GET /api/search") or its path alone ("/api/search", any method)
//	method   the request method, case-insensitive
//	status   a status class (2xx, 4xx, ...), a status (404), or none (no response)
//	cohort   before, existing or arrived (see Cohorts); needs a surge time
//	region   the recorded region
type Tag struct {
	Name, Value string
}

// Key returns the metric with its tags, as written in a thresholds map:
// latency_ms{method:GET,route:/api/search}.
func (t *Threshold) Key() string {
	if len(t.Tags) == 0 {
		return t.Metric
	}
	parts := make([]string, len(t.Tags))
	for i, tag := range t.Tags {
		parts[i] = tag.Name + ":" + tag.Value
	}
	return t.Metric + "{" + strings.Join(parts, ",") + "}"
}

// Expr returns the aggregation, comparison and bound: p(99)<500.
func (t *Threshold) Expr() string {
	return t.aggName() + t.Op + strconv.FormatFloat(t.Bound, 'g', -1, 64)
}

func (t *Threshold) aggName() string {
	if t.Agg == "p" {
		return "p(" + strconv.FormatFloat(t.P, 'g', -1, 64) + ")"
	}
	return t.Agg
}

// String returns the threshold in the flag form, KEY:EXPR.
func (t *Threshold) String() string { return t.Key() + ":" + t.Expr() }

// ThresholdError is a threshold that does not parse: Offset is the byte
// offset in Text where the problem is.
type ThresholdError struct {
	Text   string
	Offset int
	Msg    string
}

func (e *ThresholdError) Error() string {
	return fmt.Sprintf("threshold %q: at offset %d: %s", e.Text, e.Offset, e.Msg)
}

// ParseThreshold parses a threshold given as a metric key and an
// expression, as in a thresholds map: ParseThreshold("latency_ms{route:/a}",
// "p(99)<500"). Errors are *ThresholdError with the offset in key + ":" +
// expr.
func ParseThreshold(key, expr string) (Threshold, error) {
	var t Threshold
	text := key + ":" + expr
	fail := func(off int, format string, a ...any) (Threshold, error) {
		return Threshold{}, &ThresholdError{Text: text, Offset: off, Msg: fmt.Sprintf(format, a...)}
	}
	name, tags, off, msg := parseKey(key)
	if msg != "" {
		return fail(off, "%s", msg)
	}
	aggs, ok := thresholdMetrics[name]
	if !ok {
		return fail(0, "unknown metric %q (want one of %s)", name, strings.Join(slices.Sorted(maps.Keys(thresholdMetrics)), ", "))
	}
	t.Metric, t.Tags = name, tags
	base := len(key) + 1
	e := strings.TrimSpace(expr)
	lead := strings.Index(expr, e)
	agg, n, msg := parseAgg(e, &t)
	if msg != "" {
		return fail(base+lead, "%s", msg)
	}
	if !slices.Contains(aggs, agg) {
		return fail(base+lead, "metric %s has no aggregation %s (want %s)", name, agg, strings.Join(aggNames(aggs), ", "))
	}
	t.Agg = agg
	rest := strings.TrimLeft(e[n:], " ")
	restOff := base + lead + len(e) - len(rest)
	for _, op := range []string{"<=", ">=", "==", "!=", "<", ">"} {
		if strings.HasPrefix(rest, op) {
			t.Op = op
			break
		}
	}
	if t.Op == "" {
		return fail(restOff, "want a comparison (<, <=, >, >=, ==, !=) after %s, got %q", t.aggName(), rest)
	}
	num := strings.TrimLeft(rest[len(t.Op):], " ")
	bound, err := strconv.ParseFloat(num, 64)
	if err != nil || bound != bound {
		return fail(restOff+len(rest)-len(num), "want a number after %s, got %q", t.Op, num)
	}
	t.Bound = bound
	return t, nil
}

// parseKey splits metric{tag:value,...}; on error it returns the offset and
// a message.
func parseKey(key string) (name string, tags []Tag, off int, msg string) {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return strings.TrimSpace(key), nil, 0, ""
	}
	name = strings.TrimSpace(key[:open])
	if !strings.HasSuffix(key, "}") {
		return "", nil, len(key), "tags opened with { are not closed with }"
	}
	body := key[open+1 : len(key)-1]
	pos := open + 1
	for _, part := range strings.Split(body, ",") {
		colon := strings.IndexByte(part, ':')
		if colon < 0 {
			return "", nil, pos, fmt.Sprintf("tag %q is not name:value", part)
		}
		tn, tv := strings.TrimSpace(part[:colon]), strings.TrimSpace(part[colon+1:])
		switch {
		case !slices.Contains(thresholdTags, tn):
			return "", nil, pos, fmt.Sprintf("unknown tag %q (want %s)", tn, strings.Join(thresholdTags, ", "))
		case tv == "":
			return "", nil, pos + colon + 1, fmt.Sprintf("tag %s has no value", tn)
		case slices.ContainsFunc(tags, func(t Tag) bool { return t.Name == tn }):
			return "", nil, pos, fmt.Sprintf("tag %s given twice", tn)
		}
		if tn == "status" && !validStatusTag(tv) {
			return "", nil, pos + colon + 1, fmt.Sprintf("status %q is not a class (2xx), a status (404) or none", tv)
		}
		if tn == "cohort" && !slices.Contains(CohortNames, tv) {
			return "", nil, pos + colon + 1, fmt.Sprintf("cohort %q is not one of %s", tv, strings.Join(CohortNames, ", "))
		}
		tags = append(tags, Tag{tn, tv})
		pos += len(part) + 1
	}
	slices.SortFunc(tags, func(a, b Tag) int { return cmp.Compare(a.Name, b.Name) })
	return name, tags, 0, ""
}

func validStatusTag(v string) bool {
	if v == "none" {
		return true
	}
	if len(v) == 3 && v[0] >= '1' && v[0] <= '5' && strings.ToLower(v[1:]) == "xx" {
		return true
	}
	n, err := strconv.Atoi(v)
	return err == nil && n >= 100 && n <= 599
}

// parseAgg reads the aggregation at the start of e and returns its name and
// length; p(N) sets t.P.
func parseAgg(e string, t *Threshold) (agg string, n int, msg string) {
	if strings.HasPrefix(e, "p(") {
		end := strings.IndexByte(e, ')')
		if end < 0 {
			return "", 0, "p( is not closed with )"
		}
		p, err := strconv.ParseFloat(strings.TrimSpace(e[2:end]), 64)
		if err != nil || !(p > 0 && p <= 100) {
			return "", 0, fmt.Sprintf("percentile %q is not a number in (0, 100]", e[2:end])
		}
		t.P = p
		return "p", end + 1, ""
	}
	i := 0
	for i < len(e) && 'a' <= e[i] && e[i] <= 'z' {
		i++
	}
	switch e[:i] {
	case "avg", "min", "max", "med", "rate", "count", "value":
		return e[:i], i, ""
	case "":
		return "", 0, fmt.Sprintf("want an aggregation (p(N), avg, min, max, med, rate, count, value), got %q", e)
	}
	return "", 0, fmt.Sprintf("unknown aggregation %q (want p(N), avg, min, max, med, rate, count or value)", e[:i])
}

func aggNames(aggs []string) []string {
	out := slices.Clone(aggs)
	for i, a := range out {
		if a == "p" {
			out[i] = "p(N)"
		}
	}
	return out
}

// ParseThresholdFlag parses the flag form of a threshold: KEY:EXPR, then
// options after commas: abort_on_fail, delay_abort_eval=DURATION,
// no_data=pass.
//
//	latency_ms{route:/api/search}:p(99)<500
//	errors:rate<0.05,abort_on_fail,delay_abort_eval=10s
func ParseThresholdFlag(s string) (Threshold, error) {
	split := 0 // the colon after the key: after its tags, if any
	if open := strings.IndexByte(s, '{'); open >= 0 && open < strings.IndexByte(s+":", ':') {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return Threshold{}, &ThresholdError{Text: s, Offset: len(s), Msg: "tags opened with { are not closed with }"}
		}
		split = end + 1
	}
	colon := strings.IndexByte(s[split:], ':')
	if colon < 0 {
		return Threshold{}, &ThresholdError{Text: s, Offset: len(s), Msg: "want METRIC{TAGS}:EXPR, e.g. latency_ms:p(99)<500"}
	}
	colon += split
	key, rest := s[:colon], s[colon+1:]
	parts := strings.Split(rest, ",")
	t, err := ParseThreshold(key, parts[0])
	if err != nil {
		return Threshold{}, err
	}
	off := colon + 1 + len(parts[0]) + 1
	for _, opt := range parts[1:] {
		if msg := t.setOption(strings.TrimSpace(opt)); msg != "" {
			return Threshold{}, &ThresholdError{Text: s, Offset: off, Msg: msg}
		}
		off += len(opt) + 1
	}
	return t, nil
}

// setOption applies one option of the flag form; it returns a message when
// the option is not known or its value is bad.
func (t *Threshold) setOption(opt string) string {
	name, val, hasVal := strings.Cut(opt, "=")
	switch name {
	case "abort_on_fail", "abortOnFail":
		b := true
		if hasVal {
			var err error
			if b, err = strconv.ParseBool(val); err != nil {
				return fmt.Sprintf("abort_on_fail=%q is not true or false", val)
			}
		}
		t.AbortOnFail = b
	case "delay_abort_eval", "delayAbortEval":
		d, err := time.ParseDuration(val)
		if err != nil || d < 0 {
			return fmt.Sprintf("delay_abort_eval=%q is not a duration >= 0 (10s, 1m)", val)
		}
		t.DelayAbortEval = d
	case "no_data":
		switch val {
		case "pass":
			t.NoDataPasses = true
		case "fail":
			t.NoDataPasses = false
		default:
			return fmt.Sprintf("no_data=%q is not pass or fail", val)
		}
	default:
		return fmt.Sprintf("unknown option %q (want abort_on_fail, delay_abort_eval=DURATION, no_data=pass|fail)", opt)
	}
	return ""
}

// ParseThresholdMap parses the thresholds of a config file, in k6's shape: a
// map from metric key to a list whose items are an expression or an object
// {threshold, abort_on_fail, delay_abort_eval, no_data} (k6's abortOnFail
// and delayAbortEval are accepted too). It returns the thresholds sorted by
// key and every error, each naming its key and item.
//
//	thresholds:
//	  "latency_ms{route:/api/search}": ["p(99)<500"]
//	  errors:
//	    - threshold: rate<0.05
//	      abort_on_fail: true
//	      delay_abort_eval: 10s
func ParseThresholdMap(m map[string]any) ([]Threshold, []error) {
	var out []Threshold
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(m)) {
		items, ok := m[key].([]any)
		if !ok {
			if s, isStr := m[key].(string); isStr {
				items = []any{s} // one expression without a list
			} else {
				errs = append(errs, fmt.Errorf("thresholds.%s: want a list of expressions, got %T", key, m[key]))
				continue
			}
		}
		for i, item := range items {
			t, err := parseThresholdItem(key, item)
			if err != nil {
				errs = append(errs, fmt.Errorf("thresholds.%s[%d]: %w", key, i, err))
				continue
			}
			out = append(out, t)
		}
	}
	return out, errs
}

func parseThresholdItem(key string, item any) (Threshold, error) {
	switch v := item.(type) {
	case string:
		return ParseThreshold(key, v)
	case map[string]any:
		expr, ok := v["threshold"].(string)
		if !ok {
			return Threshold{}, fmt.Errorf("want a field threshold: EXPR")
		}
		t, err := ParseThreshold(key, expr)
		if err != nil {
			return Threshold{}, err
		}
		for _, name := range slices.Sorted(maps.Keys(v)) {
			if name == "threshold" {
				continue
			}
			if msg := t.setOption(name + "=" + fmt.Sprint(v[name])); msg != "" {
				return Threshold{}, fmt.Errorf("%s", msg)
			}
		}
		return t, nil
	}
	return Threshold{}, fmt.Errorf("want an expression or {threshold: EXPR, ...}, got %T", item)
}

// Flag returns the threshold in the flag form with its options, which
// ParseThresholdFlag parses back to t: KEY:EXPR[,abort_on_fail]
// [,delay_abort_eval=D][,no_data=pass].
func (t *Threshold) Flag() string {
	s := t.String()
	if t.AbortOnFail {
		s += ",abort_on_fail"
	}
	if t.DelayAbortEval > 0 {
		s += ",delay_abort_eval=" + t.DelayAbortEval.String()
	}
	if t.NoDataPasses {
		s += ",no_data=pass"
	}
	return s
}
