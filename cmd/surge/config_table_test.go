package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// badValue is a value a key refuses and a word its error says.
type badValue struct{ value, want string }

// stringBad: for every key whose value is a string or a list, values it
// refuses. Numbers, booleans and durations get theirs from their type
// (typedBad); keys where any string is fine are in anyValue, with why.
var stringBad = map[string][]badValue{
	"compare.max_p50_increase":        {{"ten", "ten"}},
	"compare.max_p99_increase":        {{"10", "10"}}, // no unit
	"compare.max_error_rate_increase": {{"lots", "lots"}},
	"import.output":                   {{"/proc/version", "exists; pass --force"}},
	"import.session_key":              {{"biscuit:sid", "biscuit"}},
	"inspect.from":                    {{"noon", "not a time"}},
	"profile.build.output":            {{"/proc/version", "is a file"}},
	"profile.build.class":             {{"live", "CONDITION[,CONDITION]:NAME"}, {"header.X=1:x", "can test path"}},
	"profile.plot.output":             {{"/proc/version", "is a file"}},
	"profile.synth.output":            {{"/proc/version", "exists; pass --force"}},
	"profile.synth.start":             {{"noon", "not an RFC 3339 time"}},
	"inspect.to":                      {{"noon", "not a time"}},
	"kafka.tail.brokers":              {{"a:b/c", "HOST:PORT"}},
	"kafka.tail.format":               {{"xml", "want text or json"}},
	"kafka.tail.since":                {{"yesterday", "neither a positive duration"}},
	"replay.accounts":                 {{"/nonexistent/accounts.csv", "no such file"}},
	"replay.conns":                    {{"each", "want per-user or shared"}},
	"replay.profile":                  {{"/nonexistent/profile", "no profile.yaml"}},
	"replay.driver":                   {{"fast", "want auto, lean or http"}},
	"replay.junit":                    {{"/proc/version", "exists; pass --force"}},
	"replay.mode":                     {{"open", "want timeline or closed"}},
	"replay.progress":                 {{"bar", "want auto, plain or none"}},
	"replay.results":                  {{"/proc/version", "exists; pass --force"}},
	"replay.summary_json":             {{"/proc/version", "exists; pass --force"}},
	"replay.surge_at":                 {{"kickoff", "not auto, none"}},
	"replay.target":                   {{"127.0.0.1:8080", "needs a scheme: http://127.0.0.1:8080"}, {"ftp://127.0.0.1/", "not http or https"}},
	"replay.threshold":                {{"latency_ms", "latency_ms"}},
	"replay.to":                       {{"noon", "not a time"}},
	"replay.window_from":              {{"noon", "not a time"}},
	"replay.window_to":                {{"noon", "not a time"}},
	"report.surge_at":                 {{"kickoff", "not auto, none"}},
	"report.threshold":                {{"latency_ms", "latency_ms"}},
	"run.start.conns":                 {{"each", "want \"\", per-user or shared"}},
	"run.start.driver":                {{"fast", "lean"}},
	"run.start.late":                  {{"maybe", "want send or skip"}},
	"run.start.mode":                  {{"open", "timeline"}},
	"run.start.start_at":              {{"soon", "want +DURATION"}},
	"run.start.target":                {{"127.0.0.1:8080", "needs a scheme"}},
	"run.start.window_from":           {{"noon", "not a time"}},
	"run.start.window_to":             {{"noon", "not a time"}},
	"run.start.threshold":             {{"latency_ms", "latency_ms"}},
	"run.start.junit":                 {{"/proc/version", "exists; pass --force"}},
	"secrets":                         {{"app-key", "a map"}},
	"demo.serve.addr":                 {{"x", "want HOST:PORT on loopback"}},
	"thresholds":                      {{"p99<500", "a map"}},
	"shape":                           {{"10x", "a map"}},
	"websocket":                       {{"checks", "a map"}},
	"regions":                         {{"eu", "a map"}},
	"dns.ttl":                         {{"5 minutes", "want ttl"}, {"-5s", "want ttl"}},
	"capture.proxy.upstream":          {{"127.0.0.1:9000", "want http://HOST"}},
	"capture.proxy.output":            {{"/proc/version", "not a directory"}},
	"capture.proxy.admin":             {{"9090", "missing port"}},
	"capture.proxy.listen":            {{"8080", "missing port"}},
	"capture.proxy.tls_cert":          {{"cert.pem", "go together"}},
	"capture.proxy.tls_key":           {{"key.pem", "go together"}},
	"capture.proxy.session_key":       {{"biscuit:sid", "biscuit"}},
	"capture.proxy.bodies":            {{"/api=lots", "lots"}},
	"capture.proxy.recorder_nice":     {{"0", "want a nice value from 1 to 19"}, {"20", "want a nice value from 1 to 19"}},
	"replay.html":                     {{"/proc/version", "exists; pass --force"}},
	"report.html":                     {{"/proc/version", "exists; pass --force"}},
	"replay.time_resolution":          {{"fortnight", "want auto, 0 or a positive duration"}},
	"replay.web":                      {{"5665", "want HOST:PORT"}},
	"replay.control":                  {{"a:b:c", "want HOST:PORT or a port"}, {"192.0.2.1:7357", "is not loopback"}},
	"replay.ratio_for":                {{"path=/live", "want CONDITION:RATIO"}},
	"replay.slo":                      {{"p99<", "want p(99)<500ms"}},
	"replay.accounts_exhausted":       {{"panic", "want share or stop"}},
	// surge accounts (docs/ACCOUNTS.md).
	"accounts.build.credentials":      {{"/nonexistent/creds.csv", "no such file"}},
	"accounts.build.token_template":   {{"tok-{nope}", "unknown field {nope}"}, {"static", "the same token"}},
	"accounts.build.account_template": {{"{hmac}", "unknown field {hmac}"}, {"fixed", "has no {user}"}},
	"accounts.build.token_key_file":   {{"/nonexistent/key", "no such file"}},
	"accounts.build.epoch":            {{"noon", "want an RFC 3339 time, now or none"}},
	"accounts.build.output":           {{"/proc/version", "exists; pass --force"}},
	"accounts.export.format":          {{"xml", "want csv or jsonl"}},
	"accounts.export.output":          {{"/proc/version", "exists; pass --force"}},
}

// anyValue: keys that take any string, and why that is right.
var anyValue = map[string]string{
	"capture.proxy.client_header": "a header name; a request without it falls back to the connection's address",
	"capture.proxy.scrub_headers": "names to scrub: any name",
	"capture.proxy.scrub_query":   "names to scrub: any name",
	"capture.proxy.scrub_fields":  "names to scrub: any name",
	"capture.proxy.scrub_users":   "names whose values are user ids: any name",
	"replay.web_token":            "a secret the --web listener requires; any string",
	"replay.control_token":        "a secret the control API requires; any string",
	"ctl.addr":                    "the control API's URL: a bad one fails at the call, named",
	"ctl.token":                   "the run's control token; any string",
	"ctl.class":                   "a class name of the run's shaping; the run refuses one it does not have",
	"ctl.to":                      "a session set name of the run's shaping; the run refuses one it does not have",
	"run.shape.class":             "a class name of the run's shaping; the run refuses one it does not have",
	"run.shape.to":                "a session set name of the run's shaping; the run refuses one it does not have",
	"run.report.html":             "an output path; the page is written to a temp file and renamed",
	"agent.allow":                 "host names, IPs or CIDRs: a name is resolved when a run names a target, and the allowlist refuses what it does not cover",
	"agent.brokers":               "broker addresses, dialed at start (a bad one fails there, named)",
	"agent.control_topic":         "a topic name",
	"agent.results_topic":         "a topic name",
	"agent.group":                 "a consumer group name",
	"agent.id":                    "the agent's own name",
	"import.host":                 "a host name for records that name none",
	"import.log_format":           "parsed by the format's decoder when import starts (an unknown variable is an error there)",
	"kafka.archive.brokers":       "broker addresses, dialed at start",
	"kafka.archive.group":         "a consumer group name",
	"kafka.archive.out":           "a directory the archive resumes in: existing files are its own",
	"kafka.archive.topic":         "a topic name",
	"profile.synth.from":          "capture paths, opened when synth starts (a missing one is an error naming it)",
	"replay.capture":              "capture paths, opened when the run starts (a missing one is an error naming it)",
	"replay.from":                 "capture paths or a window start, told apart by form",
	"report.junit":                "written after the report, from results already recorded (no run to spoil)",
	"run.brokers":                 "broker addresses, dialed at start",
	"run.control_topic":           "a topic name",
	"run.results_topic":           "a topic name",
	"run.start.from":              "the capture (path or kafka:// URL), opened when the run starts",
	"run.start.run":               "the run's name",
	"scrub.fields":                "field names to scrub",
	"scrub.headers":               "header names to scrub",
	"scrub.query":                 "query parameter names to scrub",
	"scrub.users":                 "names of user id fields",
	"scrub.key":                   "any bytes are a key",
	"targets.allow":               "host names, IPs or CIDRs (see agent.allow)",
	"accounts.build.views":        "capture paths, opened when the build starts (a missing one is an error naming it)",
	"accounts.token_key":          "any bytes are a key",
}

// semanticBad: values that parse as their type but mean nothing or would
// mislead (settings.Validate).
var semanticBad = map[string][]badValue{
	"replay.speed":                {{"0", "want a positive speed"}, {"-2", "want a positive speed"}, {"1e-9", "want a speed from 0.01"}, {"1e9", "want a speed from 0.01"}},
	"replay.ratio":                {{"0", "schedules nothing"}, {"-1", "want a ratio above 0"}},
	"replay.loop":                 {{"0", "want 1 to 1000 passes"}, {"1000000000", "want 1 to 1000 passes"}},
	"replay.max_rps":              {{"-5", "0 or more"}},
	"replay.abort_error_rate":     {{"1.5", "fraction"}},
	"replay.pipeline":             {{"0", "want 1"}},
	"replay.max_conns":            {{"-1", "or more connections"}},
	"replay.timeout":              {{"-1s", "0 or more"}},
	"replay.routes":               {{"-1", "0 (every route)"}},
	"report.routes":               {{"-1", "0 (every route)"}},
	"run.start.speed":             {{"0", "want a positive speed"}, {"1e-9", "want a speed from 0.01"}},
	"run.start.ratio":             {{"-1", "above 0"}},
	"import.max_problems":         {{"-1", "0 or more"}},
	"kafka.tail.count":            {{"-3", "0 (follow)"}},
	"demo.serve.speed":            {{"0", "want a positive speed"}},
	"demo.serve.for":              {{"-1s", "0 or more"}},
	"profile.build.session_idle":  {{"-1s", "0 or more"}},
	"profile.build.max_routes":    {{"-1", "0 or more route groups"}},
	"profile.build.moment_change": {{"-0.5", "a fraction of 0 or more"}},
	"profile.build.moment_window": {{"-1", "0 or more minutes"}},

	"accounts.build.ratio_max": {{"0", "want a number above 0"}},
	"accounts.build.buckets":   {{"3", "power of two"}},
	"profile.synth.duration":   {{"-1h", "0 (the profile's span) or more"}},
	"profile.synth.scale":      {{"0", "a scale above 0"}, {"-1.5", "a scale above 0"}},
}

// typedBad derives a bad value from a key's Go type, or reports none.
func typedBad(t reflect.Type) (badValue, bool) {
	if t == durationType {
		return badValue{"30", "a duration"}, true // no unit
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return badValue{"2.5", "an integer"}, true
	case reflect.Uint64:
		return badValue{"-1", "a non-negative integer"}, true
	case reflect.Float64:
		return badValue{"50/s", "a number"}, true
	case reflect.Bool:
		return badValue{"yes please", "a boolean"}, true
	}
	return badValue{}, false
}

// keyTypes returns every key of settings with its Go type.
func keyTypes() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			p := prefix + f.Tag.Get("mapstructure")
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				walk(f.Type, p+".")
			} else {
				out[p] = f.Type
			}
		}
	}
	walk(reflect.TypeOf(settings{}), "")
	return out
}

// TestEveryKeyRefusesBadValues is the table of bad values for every config
// key, each through the key's flag, the YAML file and its SURGE_*
// variable: each is a usage error (exit 2) naming the key as it was given
// (--flag, or the key with file:line or the variable). A key with no row
// fails the test: give it a bad value, or say in anyValue why any string
// goes.
func TestEveryKeyRefusesBadValues(t *testing.T) {
	_, cfg := newRoot()
	types := keyTypes()
	for key, typ := range types {
		var rows []badValue
		if b, ok := typedBad(typ); ok {
			rows = append(rows, b)
		}
		rows = append(rows, semanticBad[key]...)
		rows = append(rows, stringBad[key]...)
		if len(rows) == 0 {
			if _, ok := anyValue[key]; !ok {
				t.Errorf("key %s (%v) has no bad value in stringBad and no reason in anyValue", key, typ)
			}
			continue
		}
		if _, ok := anyValue[key]; ok {
			t.Errorf("key %s is in anyValue and has bad values", key)
		}
		args := commandArgs(cfg, key)
		for i, row := range rows {
			t.Run(fmt.Sprintf("%s/%d", key, i), func(t *testing.T) {
				usage := func(how string, err error, want ...string) {
					t.Helper()
					var ee *exitError
					if !errors.As(err, &ee) || ee.code != exitUsage {
						t.Fatalf("%s %s=%q: %v; want a usage error (exit 2)", how, key, row.value, err)
					}
					for _, w := range want {
						if !strings.Contains(err.Error(), w) {
							t.Errorf("%s %s=%q: error %q; want it to say %q", how, key, row.value, err, w)
						}
					}
				}
				if f := cfg.flags[key]; f != nil {
					_, _, err := surge(t, append(append([]string{}, args...), "--"+f.Name+"="+row.value)...)
					usage("flag", err, "--"+f.Name, row.want)
				}

				parts := strings.Split(key, ".")
				var y strings.Builder
				for i, p := range parts {
					y.WriteString(strings.Repeat("  ", i) + p + ":")
					if i < len(parts)-1 {
						y.WriteString("\n")
					}
				}
				fmt.Fprintf(&y, " %q\n", row.value)
				file := filepath.Join(t.TempDir(), "c.yaml")
				if err := os.WriteFile(file, []byte(y.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				_, _, err := surge(t, append(append([]string{}, args...), "--config", file)...)
				usage("yaml", err, key, fmt.Sprintf("c.yaml:%d", len(parts)), row.want)

				t.Setenv(envName(key), row.value)
				_, _, err = surge(t, args...)
				usage("env", err, key, envName(key), row.want)
			})
		}
	}
	for key := range anyValue {
		if _, ok := types[key]; !ok && anyValue[key] != "" {
			t.Errorf("anyValue names %s, which is no key", key)
		}
	}
}

// commandArgs returns the arguments of a command that reads key, far
// enough to reach the check of its value: its path, positional arguments
// it needs, and for replay a capture and a target (outputs are checked
// once the options are complete).
func commandArgs(cfg *config, key string) []string {
	cmd := cfg.owner[key]
	if cmd == nil {
		return []string{"version"} // keys without a flag: every command decodes them
	}
	if !cmd.Runnable() { // a persistent flag of a parent: run a child
		for _, c := range cmd.Commands() {
			if c.Runnable() {
				cmd = c
				break
			}
		}
	}
	path := strings.Fields(cmd.CommandPath())[1:]
	args := path
	for _, extra := range [][]string{nil, {"a"}, {"a", "b"}, {"a", "b", "c"}} {
		if cmd.Args == nil || cmd.Args(cmd, extra) == nil {
			args = append(append([]string{}, path...), extra...)
			break
		}
	}
	switch path[0] {
	case "replay":
		if key != "replay.target" {
			args = append(args, "--target", "http://127.0.0.1:1")
		}
		args = append(args, "--from", "/nonexistent/none.parquet")
	case "import":
		args = []string{"import", "combined", "/nonexistent/access.log"}
		if key != "import.output" {
			args = append(args, "-o", filepath.Join(os.TempDir(), "surge-never-written.parquet"))
		}
	}
	return args
}
