package report

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

func TestParseThresholdFlag(t *testing.T) {
	tests := []struct {
		in   string
		want string // String() of the result; "" when an error is wanted
		opt  func(Threshold) bool
		off  int    // the error's offset
		msg  string // part of the error's message
	}{
		// The example: a route by its path, any method.
		{in: "latency_ms{route:/api/search}:p(99)<500", want: "latency_ms{route:/api/search}:p(99)<500"},
		// Without tags; a fraction bound.
		{in: "errors:rate<0.01", want: "errors:rate<0.01"},
		// Several tags are sorted by name; spaces around parts are trimmed.
		{in: "service_ms{route:GET /a, method:GET}: p(99.9) <= 20", want: "service_ms{method:GET,route:GET /a}:p(99.9)<=20"},
		// Every trend aggregation.
		{in: "lateness_ms:avg<1", want: "lateness_ms:avg<1"},
		{in: "lateness_ms:med>=0", want: "lateness_ms:med>=0"},
		{in: "latency_ms:min>0", want: "latency_ms:min>0"},
		{in: "latency_ms:max!=3", want: "latency_ms:max!=3"},
		{in: "latency_ms:count==10", want: "latency_ms:count==10"},
		// Counts of errors and drops; the gauge.
		{in: "dropped:count<1", want: "dropped:count<1"},
		{in: "new_errors{status:4xx}:rate<0.1", want: "new_errors{status:4xx}:rate<0.1"},
		{in: "achieved_rps:value>100", want: "achieved_rps:value>100"},
		// A cohort and a region.
		{in: "latency_ms{cohort:existing,region:eu}:p(95)<300", want: "latency_ms{cohort:existing,region:eu}:p(95)<300"},
		// Options: abort, its delay, no data passes.
		{in: "errors:rate<0.05,abort_on_fail,delay_abort_eval=10s", want: "errors:rate<0.05",
			opt: func(t Threshold) bool { return t.AbortOnFail && t.DelayAbortEval == 10*time.Second }},
		{in: "errors{region:mars}:rate<0.05,no_data=pass", want: "errors{region:mars}:rate<0.05",
			opt: func(t Threshold) bool { return t.NoDataPasses && !t.AbortOnFail }},
		// k6's camelCase names are accepted.
		{in: "errors:rate<0.05,abortOnFail=true,delayAbortEval=1m", want: "errors:rate<0.05",
			opt: func(t Threshold) bool { return t.AbortOnFail && t.DelayAbortEval == time.Minute }},

		// Unknown metric: offset 0.
		{in: "latency:p(99)<5", off: 0, msg: "unknown metric"},
		// An aggregation the metric does not have: at the expression.
		{in: "errors:p(99)<5", off: 7, msg: "no aggregation p"},
		{in: "latency_ms:rate<5", off: 11, msg: "no aggregation rate"},
		// Unknown aggregation.
		{in: "latency_ms:p99<5", off: 11, msg: "unknown aggregation"},
		// A percentile out of range, and p( not closed.
		{in: "latency_ms:p(101)<5", off: 11, msg: "percentile"},
		{in: "latency_ms:p(99<5", off: 11, msg: "not closed"},
		// No comparison: at the character after the aggregation.
		{in: "latency_ms:p(99)=5", off: 16, msg: "comparison"},
		// A bound that is not a number: after the comparison.
		{in: "latency_ms:p(99)<5x0", off: 17, msg: "number"},
		{in: "latency_ms:p(99)<", off: 17, msg: "number"},
		// No expression at all.
		{in: "latency_ms", off: 10, msg: "METRIC{TAGS}:EXPR"},
		// Tags: unknown name, no value, twice, unclosed, bad status, bad cohort.
		{in: "latency_ms{host:a}:max<1", off: 11, msg: "unknown tag"},
		{in: "latency_ms{route:}:max<1", off: 17, msg: "no value"},
		{in: "latency_ms{route:/a,route:/b}:max<1", off: 20, msg: "twice"},
		{in: "latency_ms{route:/a:max<1", off: 25, msg: "not closed"},
		{in: "errors{status:6xx}:rate<1", off: 14, msg: "status"},
		{in: "errors{cohort:late}:rate<1", off: 14, msg: "cohort"},
		{in: "errors{route}:rate<1", off: 7, msg: "name:value"},
		// Options: unknown, bad duration, bad no_data.
		{in: "errors:rate<1,abort", off: 14, msg: "unknown option"},
		{in: "errors:rate<1,delay_abort_eval=soon", off: 14, msg: "duration"},
		{in: "errors:rate<1,abort_on_fail,no_data=maybe", off: 28, msg: "pass or fail"},
	}
	for _, tt := range tests {
		got, err := ParseThresholdFlag(tt.in)
		if tt.want != "" {
			if err != nil || got.String() != tt.want || (tt.opt != nil && !tt.opt(got)) {
				t.Errorf("ParseThresholdFlag(%q) = %s %+v, %v; want %s", tt.in, got.String(), got, err, tt.want)
			}
			continue
		}
		var te *ThresholdError
		if !errors.As(err, &te) || te.Offset != tt.off || !strings.Contains(te.Msg, tt.msg) || !strings.Contains(err.Error(), tt.in) {
			t.Errorf("ParseThresholdFlag(%q) error = %v; want offset %d and %q", tt.in, err, tt.off, tt.msg)
		}
	}
}

func TestParseThresholdMap(t *testing.T) {
	m := map[string]any{
		"latency_ms{route:/api/search}": []any{"p(99)<500", "p(50)<100"},
		"errors":                        []any{map[string]any{"threshold": "rate<0.05", "abort_on_fail": true, "delay_abort_eval": "10s"}},
		"dropped":                       "count<1",                                                         // one expression, no list
		"lateness_ms":                   []any{"p(99)<<5"},                                                 // bad: reported with key and index
		"service_ms":                    []any{map[string]any{"abort": true}},                              // bad: no threshold field
		"achieved_rps":                  []any{map[string]any{"threshold": "value>1", "no_data": "later"}}, // bad option value
		"new_errors":                    42,                                                                // bad: not a list
	}
	got, errs := ParseThresholdMap(m)
	var names []string
	for _, th := range got {
		names = append(names, th.String())
	}
	want := "dropped:count<1 errors:rate<0.05 latency_ms{route:/api/search}:p(99)<500 latency_ms{route:/api/search}:p(50)<100"
	if strings.Join(names, " ") != want {
		t.Errorf("thresholds = %s; want %s", strings.Join(names, " "), want)
	}
	for _, th := range got {
		if th.Metric == "errors" && (!th.AbortOnFail || th.DelayAbortEval != 10*time.Second) {
			t.Errorf("errors threshold options = %+v", th)
		}
	}
	joined := errors.Join(errs...).Error()
	for _, w := range []string{"thresholds.lateness_ms[0]", "offset 18", "thresholds.service_ms[0]", "thresholds.achieved_rps[0]", "thresholds.new_errors"} {
		if !strings.Contains(joined, w) {
			t.Errorf("errors %q do not mention %q", joined, w)
		}
	}
	if len(errs) != 4 {
		t.Errorf("%d errors; want 4: %v", len(errs), errs)
	}
}

// result returns a sent result of route with status and latency ms.
func result(route string, status int32, latMS float64, errClass string) schema.Result {
	sent := t0.Add(time.Second)
	method, _, _ := strings.Cut(route, " ")
	return schema.Result{
		Intended: t0, Sent: &sent, Route: route, Method: method, Status: status, Error: errClass,
		LatencyNS: int64(latMS * 1e6), ServiceNS: int64(latMS * 1e6 / 2), LatenessNS: 100_000,
	}
}

func TestGateEvaluate(t *testing.T) {
	var rs []schema.Result
	// 100 searches at 1..100 ms; two of them 500s.
	for i := 1; i <= 100; i++ {
		status := int32(200)
		if i > 98 {
			status = 500
		}
		rs = append(rs, result("GET /api/search", status, float64(i), ""))
	}
	// 10 logins that failed to connect, one 404 as recorded, one dropped.
	for range 10 {
		rs = append(rs, result("POST /api/login", 0, 3, schema.ErrConnect))
	}
	notFound := result("GET /missing", 404, 1, "")
	notFound.RecordedStatus = 404
	rs = append(rs, notFound)
	rs = append(rs, schema.Result{Intended: t0, Route: "GET /api/search", Method: "GET", Error: schema.DroppedDeadline})

	tests := []struct {
		th     string
		value  float64
		ok     bool
		noData bool
	}{
		// p(99) of 1..100 ms within 0.1%: 99 ms.
		{"latency_ms{route:/api/search}:p(99)<100", 99, true, false},
		// The same by the full route group, and failing.
		{"latency_ms{route:GET /api/search}:p(50)<50", 50, false, false},
		// avg, min, max and med are exact or within 0.1%.
		{"latency_ms{route:/api/search}:avg<=50.5", 50.5, true, false},
		{"latency_ms{method:get}:min==1", 1, true, false},
		{"service_ms{route:/api/search}:max<50", 50, false, false},
		{"latency_ms{route:/api/search}:med<51", 50, true, false},
		{"lateness_ms:p(99)<1", 0.1, true, false},
		{"latency_ms:count==111", 111, true, false},
		// errors: 2 500s + 10 connects + 1 404 of 111 sent.
		{"errors:rate<0.1", 13.0 / 111, false, false},
		{"errors:count<=13", 13, true, false},
		// new_errors leaves out the 404 the recording had too.
		{"new_errors:count==12", 12, true, false},
		// A status class and "none" (no response).
		{"errors{status:5xx}:count==2", 2, true, false},
		{"errors{status:none}:rate==1", 1, true, false},
		{"errors{status:404}:count==1", 1, true, false},
		// Dropped: 1 of 112 scheduled.
		{"dropped:count<1", 1, false, false},
		{"dropped{route:/api/search}:rate<0.01", 1.0 / 101, true, false},
		// A tag value that never occurs: no data, fails.
		{"latency_ms{region:mars}:p(99)<500", 0, false, true},
		// ... unless no data passes.
		{"latency_ms{region:mars}:p(99)<500,no_data=pass", 0, true, true},
		// achieved_rps: all results are intended at t0 and sent 1 s later.
		{"achieved_rps:value>=111", 111, true, false},
	}
	var ths []Threshold
	for _, tt := range tests {
		th, err := ParseThresholdFlag(tt.th)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, th)
	}
	g, err := NewGate(ths, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		g.Add(&rs[i])
	}
	got := g.Evaluate(true)
	for i, tt := range tests {
		r := got[i]
		if r.OK != tt.ok || r.NoData != tt.noData || !nearRel(r.Value, tt.value, 0.002) {
			t.Errorf("%s = %+v; want value %g ok %v no data %v", tt.th, r, tt.value, tt.ok, tt.noData)
		}
	}
	// Live, a threshold without data does not fail.
	for i, r := range g.Evaluate(false) {
		if tests[i].noData && !r.OK {
			t.Errorf("live %s = %+v; want ok without data", tests[i].th, r)
		}
	}
	if !got.Failed() {
		t.Error("Failed() = false with failing thresholds")
	}
}

func nearRel(got, want, rel float64) bool {
	d := got - want
	if d < 0 {
		d = -d
	}
	return d <= rel*max(1, want)
}

func TestGateAbortCheck(t *testing.T) {
	th, err := ParseThresholdFlag("errors:rate<0.5,abort_on_fail,delay_abort_eval=10s")
	if err != nil {
		t.Fatal(err)
	}
	quiet, _ := ParseThresholdFlag("errors{region:mars}:rate<0.5,abort_on_fail") // no data: never aborts
	g, _ := NewGate([]Threshold{quiet, th}, nil)
	for range 4 {
		r := result("GET /", 0, 1, schema.ErrReset)
		g.Add(&r)
	}
	if _, failed := g.AbortCheck(5 * time.Second); failed {
		t.Error("AbortCheck before delay_abort_eval failed")
	}
	r, failed := g.AbortCheck(10 * time.Second)
	if !failed || r.Metric != "errors" || r.Value != 1 {
		t.Errorf("AbortCheck(10s) = %+v, %v; want errors rate 1 failing", r, failed)
	}
}

func TestGateCohortTagNeedsSurge(t *testing.T) {
	th, _ := ParseThresholdFlag("latency_ms{cohort:existing}:p(99)<5")
	if _, err := NewGate([]Threshold{th}, nil); err == nil || !strings.Contains(err.Error(), "surge") {
		t.Errorf("NewGate with a cohort tag and no surge: %v", err)
	}
}

func FuzzParseThresholdFlag(f *testing.F) {
	for _, s := range []string{"latency_ms{route:/api/search}:p(99)<500", "errors:rate<0.01,abort_on_fail,delay_abort_eval=10s",
		"latency_ms{route:/a,method:GET}:p(99.9)<=5", "x{", "a:b", "latency_ms{:}:p()<"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThresholdFlag(s)
		if err != nil {
			var te *ThresholdError
			if !errors.As(err, &te) || te.Offset < 0 || te.Offset > len(te.Text) {
				t.Fatalf("error %v has no offset within the text", err)
			}
			return
		}
		// What parses prints in a form that parses to the same.
		again, err := ParseThresholdFlag(th.String())
		if err != nil || again.String() != th.String() {
			t.Fatalf("%q -> %q -> %q, %v", s, th.String(), again.String(), err)
		}
		// The flag form with options (a fleet run spec carries it)
		// parses back to the same threshold, options included.
		back, err := ParseThresholdFlag(th.Flag())
		if err != nil || back.Flag() != th.Flag() || back.AbortOnFail != th.AbortOnFail ||
			back.DelayAbortEval != th.DelayAbortEval || back.NoDataPasses != th.NoDataPasses {
			t.Fatalf("%q -> Flag %q -> %q, %v", s, th.Flag(), back.Flag(), err)
		}
	})
}
