package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/shaper"
)

// Version is the version of the control and results records, sent in their
// HeaderVersion header. A reader refuses another major version.
// 1.1 added RunSpec.Thresholds and AgentReport.Gate; 1.2 RunSpec.Shape.
const Version = "1.2"

// Record headers of the control and results topics.
const (
	HeaderVersion = "surge-fleet"  // Version at write time
	HeaderKind    = "surge-kind"   // KindControl or KindAgentReport
	HeaderType    = "content-type" // always application/json
)

// Kinds of record.
const (
	KindControl     = "control"
	KindAgentReport = "agent-report"
)

// Default topics.
const (
	DefaultControlTopic = "surge-control"
	DefaultResultsTopic = "surge-results"
)

// Ops of a control Event.
const (
	OpStart  = "start"
	OpSet    = "set"
	OpPause  = "pause"
	OpResume = "resume"
	OpStop   = "stop"
	// OpShape carries a shaper control event (Event.Shape: set shaping
	// keys, or an exit), the same event a local replay's control API and
	// config watcher make (docs/SHAPING.md).
	OpShape = "shape"
)

// Late policies of a RunSpec: what an agent does with a request already
// past its time by more than the grace (a new owner of a partition resuming
// behind the clock, or a saturated agent).
const (
	LateSkip = "skip" // do not send it; counted as skipped (the default)
	LateSend = "send" // send it anyway; counted as sent late
)

// RunSpec is a run as published to the control topic: what to replay, how,
// when and against what. Its JSON field names are stable.
type RunSpec struct {
	// Run names the run (letters, digits, '.', '_', '-'); agents join the
	// consumer group GROUP.RUN for it.
	Run string `json:"run"`
	// Capture is the kafka:// address of the capture topic.
	Capture string `json:"capture"`
	// WindowFrom and WindowTo bound the window of capture time replayed:
	// [WindowFrom, WindowTo). Both are required.
	WindowFrom time.Time `json:"window_from"`
	WindowTo   time.Time `json:"window_to"`
	// Ratio, Speed and Seed are the shaper's (0 ratio drops everything; 0
	// speed means 1).
	Ratio float64 `json:"ratio"`
	Speed float64 `json:"speed"`
	Seed  uint64  `json:"seed"`
	// SpreadNS is the clone start jitter in ns (0: the shaper's default,
	// negative: none).
	SpreadNS int64 `json:"spread_ns,omitempty"`
	// StartAt is the wall time the window's start is replayed at.
	StartAt time.Time `json:"start_at"`
	// Target is the base URL requests go to; each agent checks it against
	// its own allowlist.
	Target string `json:"target"`
	// Engine options, as surge replay's flags of the same names.
	Mode          string  `json:"mode,omitempty"`
	Driver        string  `json:"driver,omitempty"`
	Conns         string  `json:"conns,omitempty"`
	MaxConns      int     `json:"max_conns,omitempty"`
	TimeoutNS     int64   `json:"timeout_ns,omitempty"`
	MaxRPS        float64 `json:"max_rps,omitempty"` // per agent
	SendTruncated bool    `json:"send_truncated,omitempty"`
	// Late is LateSkip (default) or LateSend; GraceNS is the lateness
	// beyond which it applies (0: 10 s).
	Late    string `json:"late,omitempty"`
	GraceNS int64  `json:"grace_ns,omitempty"`
	// Thresholds are the run's pass/fail criteria in surge replay's flag
	// form (report.ParseThresholdFlag; 1.1). Each agent aggregates its
	// results for them (a report.Gate) and publishes the Gate's delta
	// with its report; the merged report evaluates them on the fleet's
	// results. An agent of 1.0 ignores them: they then have no data.
	Thresholds []string `json:"thresholds,omitempty"`
	// Shape is the run's shaping beyond its ratio (1.2): the shape block of
	// a config, as surge replay reads it (docs/SHAPING.md): classes,
	// curves, exits, session sets, content list, rewrites. Ratio stays
	// the default class's ratio (surge run set ratio= changes it), so
	// Shape.Ratio is not used. Every agent collects the session sets
	// from the capture topic's window before the run, the same on every
	// agent, so an exit's follow-up sessions are those one machine would
	// start. An agent of 1.1 ignores Shape: it replays the run unshaped.
	Shape *shaper.Settings `json:"shape,omitempty"`
}

// newGate returns a Gate for the run's thresholds, nil without any.
func (s *RunSpec) newGate() (*report.Gate, error) {
	if len(s.Thresholds) == 0 {
		return nil, nil
	}
	ths := make([]report.Threshold, 0, len(s.Thresholds))
	for _, f := range s.Thresholds {
		th, err := report.ParseThresholdFlag(f)
		if err != nil {
			return nil, err
		}
		ths = append(ths, th)
	}
	return report.NewGate(ths, nil) // the cohort split does not travel
}

// Validate returns every problem with s.
func (s *RunSpec) Validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := checkRunID(s.Run); err != nil {
		errs = append(errs, err)
	}
	if _, err := kafkalog.ParseAddr(s.Capture); err != nil {
		bad("capture: %v", err)
	}
	switch {
	case s.WindowFrom.IsZero() || s.WindowTo.IsZero():
		bad("window: --window-from and --window-to are both required")
	case !s.WindowTo.After(s.WindowFrom):
		bad("window: to %s is not after from %s", stamp(s.WindowTo), stamp(s.WindowFrom))
	}
	if s.StartAt.IsZero() {
		bad("start-at: missing")
	}
	if u, err := url.Parse(s.Target); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		bad("target %q: want an http:// or https:// URL with a host", s.Target)
	}
	switch s.Late {
	case "", LateSkip, LateSend:
	default:
		bad("late: %q is not %s or %s", s.Late, LateSkip, LateSend)
	}
	if s.GraceNS < 0 {
		bad("grace: negative")
	}
	if _, err := s.newGate(); err != nil {
		bad("thresholds: %v", err)
	}
	if s.Shape != nil {
		if s.Shape.Ratio != nil {
			bad("shape.ratio: the run's ratio is its spec's ratio (surge run start --ratio); leave it out of the shape block")
		}
		if s.Shape.Regions != nil {
			bad("shape.regions: not in fleet runs yet: agents have no per-region DNS (regions:) to send a region's sessions through")
		}
		for _, err := range s.Shape.Validate() {
			bad("shape.%v", err)
		}
	}
	cfg := s.shaperConfig()
	for _, err := range cfg.Validate() {
		errs = append(errs, err)
	}
	eng, err := s.engine()
	if err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, eng.Validate()...)
	}
	return errs
}

// shaperConfig returns the shaper's configuration for s, with the constant
// ratio of the spec (an agent replaces it with the run's live ratio).
func (s *RunSpec) shaperConfig() shaper.Config {
	c := shaper.Config{
		From: s.WindowFrom, To: s.WindowTo, Speed: s.Speed, Ratio: shaper.Constant(s.Ratio),
		Seed: s.Seed, Spread: time.Duration(s.SpreadNS),
	}
	if s.Shape != nil {
		c.Shape = *s.Shape
	}
	return c
}

// speed returns the speed with its default.
func (s *RunSpec) speed() float64 {
	if s.Speed == 0 {
		return 1
	}
	return s.Speed
}

// spread returns the clone jitter range as the shaper fills it in.
func (s *RunSpec) spread() time.Duration {
	switch {
	case s.SpreadNS == 0:
		return shaper.DefaultSpread
	case s.SpreadNS < 0:
		return 0
	}
	return time.Duration(s.SpreadNS)
}

// Duration is the schedule's length (window / speed) plus the clone jitter:
// the last request is due at most this long after StartAt, pauses aside.
func (s *RunSpec) Duration() time.Duration {
	return time.Duration(float64(s.WindowTo.Sub(s.WindowFrom))/s.speed()) + s.spread()
}

// DefaultGrace is the lateness beyond which a run's late policy applies
// when its spec gives none.
const DefaultGrace = 10 * time.Second

// grace returns the lateness beyond which Late applies.
func (s *RunSpec) grace() time.Duration {
	if s.GraceNS <= 0 {
		return DefaultGrace
	}
	return time.Duration(s.GraceNS)
}

// late returns the late policy with its default.
func (s *RunSpec) late() string {
	if s.Late == "" {
		return LateSkip
	}
	return s.Late
}

// engine returns the replay engine's configuration for s (without the
// allowlist and the start, which the agent adds).
func (s *RunSpec) engine() (replay.Config, error) {
	u, err := url.Parse(s.Target)
	if err != nil {
		return replay.Config{}, fmt.Errorf("target %q: %v", s.Target, err)
	}
	c := replay.Config{
		Target: u, Mode: s.Mode, Driver: s.Driver, Conns: s.Conns, MaxConns: s.MaxConns,
		Timeout: time.Duration(s.TimeoutNS), MaxRPS: s.MaxRPS, SendTruncated: s.SendTruncated,
		MaxLateness: s.grace(),
	}
	if s.Late == LateSend {
		c.MaxLateness = -1
	}
	return c, nil
}

func checkRunID(id string) error {
	if id == "" || len(id) > 100 {
		return fmt.Errorf("run id %q: want 1 to 100 characters", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("run id %q: character %q at %d is not one of [a-zA-Z0-9._-]", id, c, i)
		}
	}
	return nil
}

// Event is one record of the control topic: a run's start (with its Spec)
// or a change to it. At is the wall time it takes effect; Issued when it was
// published. Ratio is set for OpSet, Shape for OpShape (its op set or exit;
// its offset is computed from At by every agent alike, State.Apply).
type Event struct {
	Run    string          `json:"run"`
	Op     string          `json:"op"`
	Spec   *RunSpec        `json:"spec,omitempty"`
	Ratio  *float64        `json:"ratio,omitempty"`
	Shape  *shaper.Control `json:"shape,omitempty"`
	At     time.Time       `json:"at"`
	Issued time.Time       `json:"issued"`
	By     string          `json:"by,omitempty"`
}

// ParseSet parses the arguments of `surge run set RUN key=value...` into an
// OpSet event. The keys known are: ratio.
func ParseSet(run string, args []string) (Event, error) {
	e := Event{Run: run, Op: OpSet}
	if len(args) == 0 {
		return e, errors.New("set: nothing to set; want key=value (ratio=5)")
	}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return e, fmt.Errorf("set: %q is not key=value", a)
		}
		switch k {
		case "ratio":
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(r) || math.IsInf(r, 0) {
				return e, fmt.Errorf("set: ratio=%q is not a number", v)
			}
			if err := shaper.Constant(r).Validate(); err != nil {
				return e, fmt.Errorf("set: ratio=%s: %v", v, err)
			}
			e.Ratio = &r
		default:
			return e, fmt.Errorf("set: unknown key %q (known: ratio)", k)
		}
	}
	return e, nil
}

// headers returns the headers of a fleet record of kind.
func headers(kind string) []kafka.Header {
	return []kafka.Header{
		{Key: HeaderVersion, Value: []byte(Version)},
		{Key: HeaderKind, Value: []byte(kind)},
		{Key: HeaderType, Value: []byte("application/json")},
	}
}

// ErrKind is wrapped by decode errors of a record of another kind.
var ErrKind = errors.New("record of another kind")

// decode checks a record's headers (version, kind) and decodes its JSON
// value into v.
func decode(m kafka.Message, kind string, v any) error {
	var version, k string
	for _, h := range m.Headers {
		switch h.Key {
		case HeaderVersion:
			version = string(h.Value)
		case HeaderKind:
			k = string(h.Value)
		}
	}
	where := fmt.Sprintf("%s partition %d offset %d", m.Topic, m.Partition, m.Offset)
	if version == "" {
		return fmt.Errorf("%s: no %s header: not a surge fleet record", where, HeaderVersion)
	}
	if major(version) != major(Version) {
		return fmt.Errorf("%s: fleet record version %s, this surge reads %s.x", where, version, major(Version))
	}
	if k != kind {
		return fmt.Errorf("%s: %w %q, want %q", where, ErrKind, k, kind)
	}
	if err := json.Unmarshal(m.Value, v); err != nil {
		return fmt.Errorf("%s: %v", where, err)
	}
	return nil
}

func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
