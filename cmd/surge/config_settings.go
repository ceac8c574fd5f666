package main

import (
	"fmt"
	"math"
	"time"

	"github.com/surge-replay/surge/replay"
)

// settings is every configuration key of surge as one typed value. Flags,
// the --config YAML file and SURGE_* variables are decoded into it by one
// strict decoder (config_decode.go); its mapstructure tags are the keys
// ("replay.max_rps"), their SURGE_ variable names (SURGE_REPLAY_MAX_RPS) and
// the YAML paths. A key the file names that has no field here is an error
// (mapstructure's ErrorUnused), so this struct is the list of keys:
// TestSettingsAreTheKeys keeps it equal to the keys the commands bind.
//
// Commands read their options from here, never from viper.
// The bounds of --speed and --loop: beyond them a schedule's duration
// overflows or its plan does not fit in memory.
const (
	minSpeed = 0.01
	maxSpeed = 1e6
	maxLoops = 1000
)

type settings struct {
	Import     importSettings    `mapstructure:"import"`
	Inspect    inspectSettings   `mapstructure:"inspect"`
	Replay     replaySettings    `mapstructure:"replay"`
	Targets    targetsSettings   `mapstructure:"targets"`
	Scrub      scrubSettings     `mapstructure:"scrub"`
	Report     reportSettings    `mapstructure:"report"`
	Compare    compareSettings   `mapstructure:"compare"`
	Kafka      kafkaSettings     `mapstructure:"kafka"`
	Agent      agentSettings     `mapstructure:"agent"`
	Run        runSettings       `mapstructure:"run"`
	Demo       demoSettings      `mapstructure:"demo"` // surge demo's own keys are replay.*
	Ctl        ctlSettings       `mapstructure:"ctl"`
	Capture    captureSettings   `mapstructure:"capture"`
	Profile    profileSettings   `mapstructure:"profile"`
	Accounts   accountsSettings  `mapstructure:"accounts"`   // surge accounts (accounts.go)
	Shape      map[string]any    `mapstructure:"shape"`      // per-class ratios, curves, exits, content, rewrites: decoded strictly by shaper.DecodeSettings
	Thresholds map[string]any    `mapstructure:"thresholds"` // metric → expressions, checked by report.ParseThresholdMap
	Secrets    map[string]string `mapstructure:"secrets"`    // placeholder or header/parameter name → value (replay.Config.Secrets)
	WebSocket  map[string]any    `mapstructure:"websocket"`  // WebSocket checks: decoded strictly by replay.DecodeWSSettings
	Regions    map[string]any    `mapstructure:"regions"`    // region → {resolvers, source, ecs}: decoded strictly by replay.DecodeRegions (docs/REGIONS.md)
	DNS        dnsSettings       `mapstructure:"dns"`
}

// dnsSettings are the regions' DNS cache (docs/REGIONS.md).
type dnsSettings struct {
	TTL string `mapstructure:"ttl"` // ttl (default), inf, 0 or a duration: replay.ParseDNSTTL
}

type importSettings struct {
	Output        string        `mapstructure:"output"`
	Force         bool          `mapstructure:"force"`
	LogFormat     string        `mapstructure:"log_format"`
	SessionKey    string        `mapstructure:"session_key"`
	IdleGap       time.Duration `mapstructure:"idle_gap"`
	ReorderWindow time.Duration `mapstructure:"reorder_window"`
	Strict        bool          `mapstructure:"strict"`
	MaxProblems   int           `mapstructure:"max_problems"`
	Host          string        `mapstructure:"host"`
	RowGroupRows  int           `mapstructure:"row_group_rows"`
}

type inspectSettings struct {
	JSON bool   `mapstructure:"json"`
	From string `mapstructure:"from"`
	To   string `mapstructure:"to"`
}

type replaySettings struct {
	From           []string      `mapstructure:"from"`
	Capture        []string      `mapstructure:"capture"`
	To             string        `mapstructure:"to"`
	WindowFrom     string        `mapstructure:"window_from"`
	WindowTo       string        `mapstructure:"window_to"`
	Target         string        `mapstructure:"target"`
	Ratio          float64       `mapstructure:"ratio"`
	Speed          float64       `mapstructure:"speed"`
	Loop           int           `mapstructure:"loop"`
	Seed           uint64        `mapstructure:"seed"`
	Spread         time.Duration `mapstructure:"spread"`
	Mode           string        `mapstructure:"mode"`
	Driver         string        `mapstructure:"driver"`
	HTTP2          bool          `mapstructure:"http2"`
	Insecure       bool          `mapstructure:"insecure"`
	Conns          string        `mapstructure:"conns"`
	MaxConns       int           `mapstructure:"max_conns"`
	PerUser        bool          `mapstructure:"per_user"`
	Pipeline       int           `mapstructure:"pipeline"`
	Timeout        time.Duration `mapstructure:"timeout"`
	MaxRPS         float64       `mapstructure:"max_rps"`
	MaxLateness    time.Duration `mapstructure:"max_lateness"`
	AbortErrorRate float64       `mapstructure:"abort_error_rate"`
	AbortWindow    time.Duration `mapstructure:"abort_window"`
	Grace          time.Duration `mapstructure:"grace"`
	Accounts       string        `mapstructure:"accounts"`
	SendTruncated  bool          `mapstructure:"send_truncated"`
	Results        string        `mapstructure:"results"`
	SummaryJSON    string        `mapstructure:"summary_json"`
	Progress       string        `mapstructure:"progress"`
	DryRun         bool          `mapstructure:"dry_run"`
	Force          bool          `mapstructure:"force"`
	Threshold      stringArray   `mapstructure:"threshold"`
	JUnit          string        `mapstructure:"junit"`
	SurgeAt        string        `mapstructure:"surge_at"`
	Routes         int           `mapstructure:"routes"`
	// Shaping and live control (docs/SHAPING.md).
	RatioFor       stringArray `mapstructure:"ratio_for"`
	TimeResolution string      `mapstructure:"time_resolution"`
	Profile        string      `mapstructure:"profile"` // re-time to a profile's arrival curve (replay_profile.go)
	Control        string      `mapstructure:"control"`
	ControlToken   string      `mapstructure:"control_token"`
	Watch          bool        `mapstructure:"watch"`
	// Reports people look at (docs/REPORT.md).
	HTML      string        `mapstructure:"html"`
	Web       string        `mapstructure:"web"`
	WebToken  string        `mapstructure:"web_token"`
	WebLinger time.Duration `mapstructure:"web_linger"`
	// Capacity search (docs/REPORT.md, "Capacity search").
	SearchCapacity    bool          `mapstructure:"search_capacity"`
	SLO               stringArray   `mapstructure:"slo"`
	Projected         float64       `mapstructure:"projected"`
	SearchFrom        float64       `mapstructure:"search_from"`
	SearchStep        float64       `mapstructure:"search_step"`
	SearchMax         float64       `mapstructure:"search_max"`
	SearchResolution  float64       `mapstructure:"search_resolution"`
	SearchMaxLateness time.Duration `mapstructure:"search_max_lateness"`
	SearchPasses      int           `mapstructure:"search_passes"`
	// Test accounts (docs/ACCOUNTS.md): --accounts-exhausted share or stop.
	AccountsExhausted string `mapstructure:"accounts_exhausted"`
}

type captureSettings struct {
	Proxy proxySettings `mapstructure:"proxy"`
}

// proxySettings are surge capture proxy's (docs/CAPTURE.md).
type proxySettings struct {
	Listen        string        `mapstructure:"listen"`
	Upstream      string        `mapstructure:"upstream"`
	Output        string        `mapstructure:"output"`
	Admin         string        `mapstructure:"admin"`
	TLSCert       string        `mapstructure:"tls_cert"`
	TLSKey        string        `mapstructure:"tls_key"`
	SessionKey    string        `mapstructure:"session_key"`
	IdleGap       time.Duration `mapstructure:"idle_gap"`
	ClientHeader  string        `mapstructure:"client_header"`
	Sample        float64       `mapstructure:"sample"`
	Bodies        []string      `mapstructure:"bodies"`
	Queue         int           `mapstructure:"queue"`
	ReorderWindow time.Duration `mapstructure:"reorder_window"`
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	RecorderNice  int           `mapstructure:"recorder_nice"`
	RollAge       time.Duration `mapstructure:"roll_age"`
	RollBytes     int64         `mapstructure:"roll_bytes"`
	DrainTimeout  time.Duration `mapstructure:"drain_timeout"`
	For           time.Duration `mapstructure:"for"`
	ScrubHeaders  []string      `mapstructure:"scrub_headers"`
	ScrubQuery    []string      `mapstructure:"scrub_query"`
	ScrubFields   []string      `mapstructure:"scrub_fields"`
	ScrubUsers    []string      `mapstructure:"scrub_users"`
}

// ctlSettings are surge ctl's: the control API of a running replay.
type ctlSettings struct {
	Addr   string        `mapstructure:"addr"`
	Token  string        `mapstructure:"token"`
	Class  string        `mapstructure:"class"`
	To     string        `mapstructure:"to"`
	Within time.Duration `mapstructure:"within"`
}

type targetsSettings struct {
	Allow []string `mapstructure:"allow"`
}

type scrubSettings struct {
	Key     string   `mapstructure:"key"` // from the file or SURGE_SCRUB_KEY only: no flag
	Headers []string `mapstructure:"headers"`
	Query   []string `mapstructure:"query"`
	Fields  []string `mapstructure:"fields"`
	Users   []string `mapstructure:"users"`
}

type reportSettings struct {
	JSON      bool        `mapstructure:"json"`
	Routes    int         `mapstructure:"routes"`
	Gate      bool        `mapstructure:"gate"`
	Force     bool        `mapstructure:"force"`
	Threshold stringArray `mapstructure:"threshold"`
	JUnit     string      `mapstructure:"junit"`
	SurgeAt   string      `mapstructure:"surge_at"`
	HTML      string      `mapstructure:"html"`
}

type compareSettings struct {
	MaxP50Increase       string `mapstructure:"max_p50_increase"`
	MaxP99Increase       string `mapstructure:"max_p99_increase"`
	MaxErrorRateIncrease string `mapstructure:"max_error_rate_increase"`
	MinRequests          int    `mapstructure:"min_requests"`
	Resamples            int    `mapstructure:"resamples"`
	Seed                 uint64 `mapstructure:"seed"`
	JSON                 bool   `mapstructure:"json"`
}

type kafkaSettings struct {
	Tail    tailSettings    `mapstructure:"tail"`
	Archive archiveSettings `mapstructure:"archive"`
}

type tailSettings struct {
	Brokers       string `mapstructure:"brokers"`
	Count         int    `mapstructure:"count"`
	Format        string `mapstructure:"format"`
	FromBeginning bool   `mapstructure:"from_beginning"`
	Since         string `mapstructure:"since"`
}

type archiveSettings struct {
	Brokers       []string      `mapstructure:"brokers"`
	Topic         string        `mapstructure:"topic"`
	Out           string        `mapstructure:"out"`
	Group         string        `mapstructure:"group"`
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	FlushEvents   int           `mapstructure:"flush_events"`
	FlushBytes    int64         `mapstructure:"flush_bytes"`
	RowGroupRows  int           `mapstructure:"row_group_rows"`
	Strict        bool          `mapstructure:"strict"`
}

type agentSettings struct {
	Brokers      []string `mapstructure:"brokers"`
	ControlTopic string   `mapstructure:"control_topic"`
	ResultsTopic string   `mapstructure:"results_topic"`
	Group        string   `mapstructure:"group"`
	ID           string   `mapstructure:"id"`
	Allow        []string `mapstructure:"allow"`
}

type runSettings struct {
	Brokers      []string          `mapstructure:"brokers"`
	ControlTopic string            `mapstructure:"control_topic"`
	ResultsTopic string            `mapstructure:"results_topic"`
	Lead         time.Duration     `mapstructure:"lead"`
	Start        runStartSettings  `mapstructure:"start"`
	Report       runReportSettings `mapstructure:"report"`
	Shape        runShapeSettings  `mapstructure:"shape"`
}

// runShapeSettings are surge run shape's.
type runShapeSettings struct {
	Class  string        `mapstructure:"class"`
	To     string        `mapstructure:"to"`
	Within time.Duration `mapstructure:"within"`
}

type runStartSettings struct {
	Run        string        `mapstructure:"run"`
	From       string        `mapstructure:"from"`
	WindowFrom string        `mapstructure:"window_from"`
	WindowTo   string        `mapstructure:"window_to"`
	Target     string        `mapstructure:"target"`
	Ratio      float64       `mapstructure:"ratio"`
	Speed      float64       `mapstructure:"speed"`
	Seed       uint64        `mapstructure:"seed"`
	Spread     time.Duration `mapstructure:"spread"`
	Mode       string        `mapstructure:"mode"`
	Driver     string        `mapstructure:"driver"`
	Conns      string        `mapstructure:"conns"`
	Timeout    time.Duration `mapstructure:"timeout"`
	MaxRPS     float64       `mapstructure:"max_rps"`
	Late       string        `mapstructure:"late"`
	Grace      time.Duration `mapstructure:"grace"`
	StartAt    string        `mapstructure:"start_at"`
	Wait       bool          `mapstructure:"wait"`
	JSON       bool          `mapstructure:"json"`
	Threshold  stringArray   `mapstructure:"threshold"`
	JUnit      string        `mapstructure:"junit"`
	Force      bool          `mapstructure:"force"`
}

type demoSettings struct {
	Serve demoServeSettings `mapstructure:"serve"`
}

type demoServeSettings struct {
	Addr  string        `mapstructure:"addr"`
	Speed float64       `mapstructure:"speed"`
	For   time.Duration `mapstructure:"for"`
}

type runReportSettings struct {
	JSON bool   `mapstructure:"json"`
	HTML string `mapstructure:"html"`
}

// stringArray is a list whose every string is one item, as each
// --threshold flag is (a threshold holds commas): from SURGE_* a variable
// is one item, where a []string key splits it at commas like its flag.
type stringArray []string

// keyError is a bad value of one key: the config renders it with the key's
// source (config_decode.go), "--speed 0: want …" for a flag,
// "replay.speed (from environment variable SURGE_REPLAY_SPEED): 0: want …"
// otherwise.
type keyError struct {
	Key string // "replay.speed"
	Msg string // the value, then what is wrong and what is accepted
}

func (e *keyError) Error() string { return e.Key + ": " + e.Msg }

// Validate returns every value that is well-formed but means nothing or
// would mislead (a speed of 0, a negative cap), each a *keyError. Values
// that do not parse never get here: the decoder refuses them.
func (s *settings) Validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &keyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	finite := func(key string, x float64) bool {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			bad(key, "%v: want a finite number", x)
			return false
		}
		return true
	}
	nonNegDur := func(key string, d time.Duration) {
		if d < 0 {
			bad(key, "%v: want a duration of 0 or more", d)
		}
	}
	oneOf := func(key, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		bad(key, "%q: want %s", v, orList(allowed))
	}

	r := &s.Replay
	if finite("replay.ratio", r.Ratio) {
		switch {
		case r.Ratio < 0:
			bad("replay.ratio", "%g: want a ratio above 0 (3 = three times the sessions)", r.Ratio)
		case r.Ratio == 0 && len(s.Shape) == 0 && len(r.RatioFor) == 0:
			// With classes (shape:, --ratio-for) a default of 0 is a
			// choice: only the matched sessions are replayed.
			bad("replay.ratio", "0 schedules nothing: give a ratio above 0")
		}
	}
	// The shaper reads a speed of 0 as "not set" (1x); from the user it is
	// a mistake.
	if finite("replay.speed", r.Speed) && r.Speed <= 0 {
		bad("replay.speed", "%g: want a positive speed (1 = as recorded, 10 = ten times faster)", r.Speed)
	} else if r.Speed < minSpeed || r.Speed > maxSpeed {
		// An hour at 1e-9 is 114,000 years of schedule: its duration
		// overflowed and its dry run's per-second plan took all memory.
		bad("replay.speed", "%g: want a speed from %g (100x slower) to %g", r.Speed, minSpeed, maxSpeed)
	}
	if r.Loop < 1 || r.Loop > maxLoops {
		bad("replay.loop", "%d: want 1 to %d passes over the window", r.Loop, maxLoops)
	}
	nonNegDur("replay.spread", r.Spread)
	nonNegDur("replay.timeout", r.Timeout) // 0: the default, 30s
	if finite("replay.max_rps", r.MaxRPS) && r.MaxRPS < 0 {
		bad("replay.max_rps", "%g: want a rate cap of 0 or more requests per second (0: no cap)", r.MaxRPS)
	}
	if finite("replay.abort_error_rate", r.AbortErrorRate) && (r.AbortErrorRate < 0 || r.AbortErrorRate >= 1) {
		bad("replay.abort_error_rate", "%g: want a fraction from 0 (never abort) up to, not including, 1", r.AbortErrorRate)
	}
	if r.AbortWindow < 0 || (r.AbortWindow == 0 && r.AbortErrorRate > 0) {
		bad("replay.abort_window", "%v: want a positive window (like 10s)", r.AbortWindow)
	}
	nonNegDur("replay.grace", r.Grace)
	if r.MaxConns < 0 {
		bad("replay.max_conns", "%d: want 0 (the default) or more connections", r.MaxConns)
	}
	if r.Pipeline < 1 {
		bad("replay.pipeline", "%d: want 1 (no pipelining) or more requests per connection", r.Pipeline)
	}
	if r.Routes < 0 {
		bad("replay.routes", "%d: want 0 (every route) or more", r.Routes)
	}
	oneOf("replay.progress", r.Progress, "auto", "plain", "none")
	oneOf("replay.mode", r.Mode, "timeline", "closed")
	oneOf("replay.driver", r.Driver, "auto", "lean", "http")
	oneOf("replay.conns", r.Conns, "per-user", "shared")
	// The lean driver speaks HTTP/1.1 only: --http2 would be ignored.
	if r.HTTP2 && r.Driver == "lean" {
		bad("replay.http2", "true: HTTP/2 needs the http driver (net/http); the lean driver speaks HTTP/1.1 only: drop --driver lean or --http2")
	}

	i := &s.Import
	nonNegDur("import.idle_gap", i.IdleGap) // 0: the default, 30m
	// import.reorder_window: negative means no re-ordering (capture.Options).
	if i.MaxProblems < 0 {
		bad("import.max_problems", "%d: want 0 or more", i.MaxProblems)
	}
	if i.RowGroupRows < 0 {
		bad("import.row_group_rows", "%d: want 1 or more events per row group (0: the default)", i.RowGroupRows)
	}

	if s.Report.Routes < 0 {
		bad("report.routes", "%d: want 0 (every route) or more", s.Report.Routes)
	}
	if s.Compare.MinRequests < 0 {
		bad("compare.min_requests", "%d: want 0 or more", s.Compare.MinRequests)
	}
	if s.Compare.Resamples < 0 {
		bad("compare.resamples", "%d: want 0 or more", s.Compare.Resamples)
	}

	t := &s.Kafka.Tail
	if t.Count < 0 {
		bad("kafka.tail.count", "%d: want 0 (follow) or more records", t.Count)
	}
	oneOf("kafka.tail.format", t.Format, "text", "json")
	a := &s.Kafka.Archive
	// 0 is each one's default.
	nonNegDur("kafka.archive.flush_interval", a.FlushInterval)
	if a.FlushEvents < 0 {
		bad("kafka.archive.flush_events", "%d: want 1 or more events (0: the default)", a.FlushEvents)
	}
	if a.FlushBytes < 0 {
		bad("kafka.archive.flush_bytes", "%d: want 1 or more bytes (0: the default)", a.FlushBytes)
	}
	if a.RowGroupRows < 0 {
		bad("kafka.archive.row_group_rows", "%d: want 1 or more events per row group (0: the default)", a.RowGroupRows)
	}

	nonNegDur("run.lead", s.Run.Lead)
	st := &s.Run.Start
	if finite("run.start.ratio", st.Ratio) && st.Ratio <= 0 {
		bad("run.start.ratio", "%g: want a ratio above 0", st.Ratio)
	}
	if finite("run.start.speed", st.Speed) && st.Speed <= 0 {
		bad("run.start.speed", "%g: want a positive speed (1 = as recorded, 10 = ten times faster)", st.Speed)
	} else if st.Speed < minSpeed || st.Speed > maxSpeed {
		bad("run.start.speed", "%g: want a speed from %g (100x slower) to %g", st.Speed, minSpeed, maxSpeed)
	}
	if finite("run.start.max_rps", st.MaxRPS) && st.MaxRPS < 0 {
		bad("run.start.max_rps", "%g: want a rate cap of 0 or more (0: no cap)", st.MaxRPS)
	}
	nonNegDur("run.start.spread", st.Spread)
	nonNegDur("run.start.timeout", st.Timeout)
	nonNegDur("run.start.grace", st.Grace)
	oneOf("run.start.late", st.Late, "send", "skip")
	oneOf("run.start.mode", st.Mode, "", "timeline", "closed")
	oneOf("run.start.driver", st.Driver, "", "auto", "lean", "http")
	oneOf("run.start.conns", st.Conns, "", "per-user", "shared")
	if finite("demo.serve.speed", s.Demo.Serve.Speed) && s.Demo.Serve.Speed <= 0 {
		bad("demo.serve.speed", "%g: want a positive speed (1 = as recorded)", s.Demo.Serve.Speed)
	}
	nonNegDur("demo.serve.for", s.Demo.Serve.For)
	if _, err := replay.ParseDNSTTL(s.DNS.TTL); err != nil {
		bad("dns.ttl", "%v", err)
	}
	errs = append(errs, s.Profile.validate()...)
	return append(errs, s.validateStrings()...)
}

// orList joins words as "a, b or c" (quoted).
func orList(words []string) string {
	var out string
	for i, w := range words {
		switch {
		case i == 0:
		case i == len(words)-1:
			out += " or "
		default:
			out += ", "
		}
		if w == "" {
			w = `""`
		}
		out += w
	}
	return out
}
