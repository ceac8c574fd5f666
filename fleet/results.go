package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

// AgentReport is one record of the results topic: what one agent did for one
// run since its previous report (State is a delta: merge them all), plus
// running totals and its clock offset. Refused is set, and nothing else,
// when the agent refused the run.
type AgentReport struct {
	Run   string    `json:"run"`
	Agent string    `json:"agent"`
	Seq   int64     `json:"seq"`
	Time  time.Time `json:"time"` // the agent's clock when it sent this
	// Final says the agent is done with the run: no more reports follow.
	Final   bool   `json:"final,omitempty"`
	Refused string `json:"refused,omitempty"`
	Error   string `json:"error,omitempty"`
	// ClockOffsetNS is the broker's clock minus the agent's (from the
	// broker's append time of a probe record against the midpoint of its
	// round trip, the best of several), within ±ClockRTTNS/2 plus 0.5 ms
	// (record times are in ms). ClockKnown is false when the results topic
	// does not stamp append times.
	ClockOffsetNS int64 `json:"clock_offset_ns"`
	ClockRTTNS    int64 `json:"clock_rtt_ns"`
	ClockKnown    bool  `json:"clock_known"`
	Partitions    []int `json:"partitions,omitempty"` // assigned now
	Events        int64 `json:"events"`               // capture events read so far
	Generations   int   `json:"generations"`          // consumer-group generations so far
	// Duplicates, LateSent and Skipped are running totals of takeovers
	// (takeover.go): requests re-sent that an earlier owner of their
	// partition had sent, requests past their time by more than the grace
	// sent anyway (late send) or not sent (late skip).
	Duplicates int64 `json:"duplicates"`
	LateSent   int64 `json:"late_sent"`
	Skipped    int64 `json:"skipped"`
	// State is the report of the results collected since the previous
	// report; nil when there were none.
	State *report.AggregatorState `json:"state,omitempty"`
	// Gate is the delta of the agent's Gate for the run's thresholds
	// (RunSpec.Thresholds), in the same reports as State; nil when the
	// run has none or no results came (1.1).
	Gate *report.GateState `json:"gate,omitempty"`
}

// clock is an agent's measured offset against the broker.
type clock struct {
	offset, rtt time.Duration
	known       bool
}

// measureClock produces probes to partition 0 of the results topic and
// reads the broker's append time from each answer; the probe with the
// shortest round trip wins. now is the agent's clock (time.Now; tests
// skew it).
func measureClock(ctx context.Context, t Topics, agent string, probes int, now func() time.Time) (clock, error) {
	c := t.client()
	addr := kafka.TCP(t.Brokers...)
	var best clock
	deadline := time.Now().Add(requestTimeout)
	for i := 0; i < probes; i++ {
		t0 := now()
		res, err := c.Produce(ctx, &kafka.ProduceRequest{
			Addr: addr, Topic: t.results(), Partition: 0, RequiredAcks: kafka.RequireOne,
			Records: kafka.NewRecordReader(kafka.Record{Key: kafka.NewBytes([]byte(agent)), Headers: headers("clock-probe")}),
		})
		t1 := now()
		if err == nil {
			err = res.Error
		}
		if err != nil {
			// A topic just created, a leader just moved: the metadata
			// catches up within kafkalog.MetadataTTL.
			var ke kafka.Error
			if errors.As(err, &ke) && ke.Temporary() && time.Now().Before(deadline) {
				i--
				select {
				case <-ctx.Done():
					return best, ctx.Err()
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
			return best, fmt.Errorf("fleet: clock probe to %s: %w", t.results(), err)
		}
		if res.LogAppendTime.IsZero() || res.LogAppendTime.Unix() <= 0 {
			return clock{}, nil // the topic keeps producer times: unknown
		}
		rtt := t1.Sub(t0)
		mid := t0.Add(rtt / 2)
		// Broker times are whole ms: the middle of that ms.
		off := res.LogAppendTime.Add(500 * time.Microsecond).Sub(mid)
		if !best.known || rtt < best.rtt {
			best = clock{offset: off, rtt: rtt, known: true}
		}
	}
	return best, nil
}

// publisher collects an agent's results for one run and publishes a delta
// report once a second. Safe for concurrent use.
type publisher struct {
	topics Topics
	w      *kafka.Writer
	info   report.RunInfo
	base   AgentReport // run, agent; totals updated by the agent

	mu   sync.Mutex
	agg  *report.Aggregator
	gate *report.Gate // nil without thresholds
	n    int64        // results in agg

	// newGate makes the next delta's Gate; nil without thresholds.
	newGate func() *report.Gate

	// pending are reports not yet taken by the brokers, oldest first;
	// only publish touches it, and publish calls do not overlap.
	pending []AgentReport
}

func newPublisher(t Topics, spec *RunSpec, agent string) *publisher {
	p := &publisher{
		topics: t, w: t.writer(t.results()), info: spec.Info(),
		base: AgentReport{Run: spec.Run, Agent: agent}, agg: report.NewAggregator(spec.Info()),
		newGate: func() *report.Gate { return nil },
	}
	if g, err := spec.newGate(); err == nil && g != nil {
		// The spec was validated by surge run start, and again here: a
		// threshold that does not parse leaves the run without a gate,
		// and the merged report says its thresholds have no data.
		p.newGate = func() *report.Gate { g, _ := spec.newGate(); return g }
		p.gate = g
	}
	return p
}

// add folds a result into the current delta.
func (p *publisher) add(r *schema.Result) {
	p.mu.Lock()
	p.agg.Add(r)
	if p.gate != nil {
		p.gate.Add(r)
	}
	p.n++
	p.mu.Unlock()
}

// update changes the totals of the next report.
func (p *publisher) update(f func(*AgentReport)) {
	p.mu.Lock()
	f(&p.base)
	p.mu.Unlock()
}

// publish sends the delta since the last report (and the totals). A
// report the brokers did not take (a broker restarting) is kept and sent
// first next time, so no delta is lost; Merge reads them in any order.
func (p *publisher) publish(ctx context.Context, final bool) error {
	p.mu.Lock()
	rep := p.base
	p.base.Seq++
	agg, gate, n := p.agg, p.gate, p.n
	p.agg, p.gate, p.n = report.NewAggregator(p.info), p.newGate(), 0
	p.mu.Unlock()
	rep.Time, rep.Final = time.Now(), final
	if n > 0 {
		st, err := agg.State()
		if err != nil {
			return err
		}
		rep.State = st
		if gate != nil {
			if rep.Gate, err = gate.State(); err != nil {
				return err
			}
		}
	}
	p.pending = append(p.pending, rep)
	for len(p.pending) > 0 {
		if err := publishReport(ctx, p.w, p.pending[0]); err != nil {
			return fmt.Errorf("%w (%d reports kept to send again)", err, len(p.pending))
		}
		p.pending = p.pending[1:]
	}
	return nil
}

func publishReport(ctx context.Context, w *kafka.Writer, rep AgentReport) error {
	v, err := json.Marshal(&rep)
	if err != nil {
		return err
	}
	if err := w.WriteMessages(ctx, kafka.Message{Key: []byte(rep.Run), Value: v, Headers: headers(KindAgentReport)}); err != nil {
		return fmt.Errorf("fleet: publish report to %s: %w", w.Topic, err)
	}
	return nil
}

func (p *publisher) close() { p.w.Close() }

// AgentSummary is one agent's part of a run.
type AgentSummary struct {
	Agent       string             `json:"agent"`
	Summary     *report.RunSummary `json:"summary"`
	Final       bool               `json:"final"`
	Refused     string             `json:"refused,omitempty"`
	Error       string             `json:"error,omitempty"`
	Events      int64              `json:"events"`
	Generations int                `json:"generations"`
	Partitions  []int              `json:"partitions"`
	Duplicates  int64              `json:"duplicates"`
	LateSent    int64              `json:"late_sent"`
	Skipped     int64              `json:"skipped"`
	ClockKnown  bool               `json:"clock_known"`
	ClockOffset float64            `json:"clock_offset_ms"`
	ClockRTT    float64            `json:"clock_rtt_ms"`
	Reports     int                `json:"reports"`
	LastReport  time.Time          `json:"last_report"` // the agent's clock at its latest report
}

// FleetReport is a run's merged report: the same RunSummary as surge
// replay's, of every agent's results, with each agent's own beside it.
type FleetReport struct {
	Run     string             `json:"run"`
	Summary *report.RunSummary `json:"summary"`
	Agents  []AgentSummary     `json:"agents"`
	// ClockSpread is the largest difference between two agents' clock
	// offsets, in ms, and ClockError how far off that difference may be
	// (half of each of the two agents' probe round trips, plus 0.5 ms
	// each for the broker's whole-ms times). Warnings says when the
	// agents disagree by over 5 ms beyond that error, or when the error
	// is too large to tell, and names agents that refused the run or
	// failed.
	ClockSpread float64  `json:"clock_spread_ms"`
	ClockError  float64  `json:"clock_error_ms"`
	Warnings    []string `json:"warnings,omitempty"`
	// Done says every agent that took part sent its final report.
	Done bool `json:"done"`
	// Duplicates, LateSent and Skipped sum the agents' takeover counts
	// (AgentReport). Duplicates is a lower bound: a dead agent's sends
	// after its last commit are not known to the new owner. Late and
	// GraceS are the run's late policy and grace in seconds.
	Duplicates int64   `json:"duplicates"`
	LateSent   int64   `json:"late_sent"`
	Skipped    int64   `json:"skipped"`
	Late       string  `json:"late,omitempty"`
	GraceS     float64 `json:"grace_s,omitempty"`

	gate *report.Gate // the merged Gate; nil without thresholds
}

// AbortCheck returns the first of the run's abort_on_fail thresholds that
// fails on the merged results at elapsed into the run, as
// report.Gate.AbortCheck does for one machine.
func (fr *FleetReport) AbortCheck(elapsed time.Duration) (report.ThresholdResult, bool) {
	if fr.gate == nil {
		return report.ThresholdResult{}, false
	}
	return fr.gate.AbortCheck(elapsed)
}

// MaxClockSpread is the clock disagreement between agents over which the
// report warns.
const MaxClockSpread = 5 * time.Millisecond

// Merge builds the report of spec's run from its agents' reports. With
// thresholds (RunSpec.Thresholds), the agents' Gate deltas merge into one
// Gate that evaluates them on the fleet's results, and the verdict
// includes them, as surge replay's does.
func Merge(spec *RunSpec, reps []AgentReport) (*FleetReport, error) {
	run, info := spec.Run, spec.Info()
	gate, err := spec.newGate()
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", run, err)
	}
	all := report.NewAggregator(info)
	type agentAgg struct {
		agg  *report.Aggregator
		last AgentReport
		n    int
	}
	agents := map[string]*agentAgg{}
	// A report written twice (a retry whose first write did land) counts
	// once: an agent numbers its reports.
	type agentSeq struct {
		agent string
		seq   int64
	}
	seen := map[agentSeq]bool{}
	for _, r := range reps {
		if r.Run != run || seen[agentSeq{r.Agent, r.Seq}] {
			continue
		}
		seen[agentSeq{r.Agent, r.Seq}] = true
		a := agents[r.Agent]
		if a == nil {
			a = &agentAgg{agg: report.NewAggregator(info)}
			agents[r.Agent] = a
		}
		a.n++
		if r.Seq >= a.last.Seq || a.n == 1 {
			state := a.last.State
			a.last = r
			a.last.State = state
		}
		if r.State == nil {
			continue
		}
		if err := all.Merge(r.State); err != nil {
			return nil, fmt.Errorf("agent %s report %d: %w", r.Agent, r.Seq, err)
		}
		if err := a.agg.Merge(r.State); err != nil {
			return nil, fmt.Errorf("agent %s report %d: %w", r.Agent, r.Seq, err)
		}
		if gate != nil && r.Gate != nil {
			if err := gate.MergeState(r.Gate); err != nil {
				return nil, fmt.Errorf("agent %s report %d: %w", r.Agent, r.Seq, err)
			}
		}
	}
	fr := &FleetReport{Run: run, Summary: all.Summary(), Done: len(agents) > 0, gate: gate}
	names := make([]string, 0, len(agents))
	for n := range agents {
		names = append(names, n)
	}
	sort.Strings(names)
	var lo, hi, loErr, hiErr time.Duration
	clocks := 0
	for _, n := range names {
		a := agents[n]
		l := a.last
		s := AgentSummary{
			Agent: n, Summary: a.agg.Summary(), Final: l.Final, Refused: l.Refused, Error: l.Error,
			Events: l.Events, Generations: l.Generations, Partitions: l.Partitions, ClockKnown: l.ClockKnown,
			Duplicates: l.Duplicates, LateSent: l.LateSent, Skipped: l.Skipped, LastReport: l.Time,
			ClockOffset: ms(time.Duration(l.ClockOffsetNS)), ClockRTT: ms(time.Duration(l.ClockRTTNS)), Reports: a.n,
		}
		fr.Agents = append(fr.Agents, s)
		fr.Duplicates += l.Duplicates
		fr.LateSent += l.LateSent
		fr.Skipped += l.Skipped
		if l.Refused != "" {
			fr.Warnings = append(fr.Warnings, fmt.Sprintf("agent %s refused the run: %s", n, l.Refused))
			continue
		}
		if l.Error != "" {
			fr.Warnings = append(fr.Warnings, fmt.Sprintf("agent %s failed: %s", n, l.Error))
		}
		fr.Done = fr.Done && l.Final
		if l.ClockKnown {
			off, e := time.Duration(l.ClockOffsetNS), clockError(l)
			if clocks == 0 || off < lo {
				lo, loErr = off, e
			}
			if clocks == 0 || off > hi {
				hi, hiErr = off, e
			}
			clocks++
		}
	}
	// Skipped requests were due and never sent: the fleet did not keep the
	// schedule, as a generator that drops past its deadline does not.
	if fr.Skipped > 0 && fr.Summary.GeneratorKeptUp {
		fr.Summary.GeneratorKeptUp = false
	}
	if gate != nil {
		fr.Summary.Thresholds = gate.Evaluate(true)
	}
	fr.Summary.Settle()
	fr.ClockSpread = ms(hi - lo)
	if clocks > 1 {
		fr.ClockError = ms(loErr + hiErr)
	}
	switch spread, e := hi-lo, loErr+hiErr; {
	case clocks < 2 || spread <= MaxClockSpread:
	case spread-e > MaxClockSpread:
		fr.Warnings = append(fr.Warnings, fmt.Sprintf("agents' clocks disagree by %.1f ms ± %.1f (over %v): schedules and latencies across agents are off by as much", fr.ClockSpread, fr.ClockError, MaxClockSpread))
	default:
		fr.Warnings = append(fr.Warnings, fmt.Sprintf("agents' clock offsets differ by %.1f ms ± %.1f: the probes' round trips were too slow to tell whether the clocks disagree by over %v", fr.ClockSpread, fr.ClockError, MaxClockSpread))
	}
	return fr, nil
}

// clockError is how far off an agent's measured clock offset may be: half
// its probe's round trip, plus half the broker's 1 ms timestamp unit.
func clockError(r AgentReport) time.Duration {
	return time.Duration(r.ClockRTTNS)/2 + 500*time.Microsecond
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Reports reads every agent report of run present on the results topic now.
func (t Topics) Reports(ctx context.Context, run string) ([]AgentReport, error) {
	end, err := t.end(ctx, t.results())
	if err != nil || end == 0 {
		return nil, err
	}
	r := t.reader(t.results())
	defer r.Close()
	var out []AgentReport
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return nil, fmt.Errorf("fleet: read %s: %w", t.results(), err)
		}
		if string(m.Key) == run {
			var rep AgentReport
			if err := decode(m, KindAgentReport, &rep); err == nil {
				out = append(out, rep)
			}
		}
		if m.Offset >= end-1 {
			return out, nil
		}
	}
}

// Info returns the RunInfo of a run's report.
func (s *RunSpec) Info() report.RunInfo {
	mode := s.Mode
	if mode == "" {
		mode = "timeline"
	}
	return report.RunInfo{
		Target: s.Target, Capture: []string{s.Capture}, Ratio: s.Ratio, Speed: s.speed(),
		Seed: s.Seed, Mode: mode, Start: s.StartAt, WindowFrom: s.WindowFrom,
	}
}

// WriteText writes the merged report as surge replay writes its own, then
// one line per agent and the warnings.
func (fr *FleetReport) WriteText(w io.Writer) error {
	if err := fr.Summary.WriteText(w); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nagents of run %s\n", fr.Run)
	fmt.Fprintf(&b, "  %-24s %-14s %10s %10s %8s %8s %8s %9s %6s %6s %6s %6s %s\n", "agent", "partitions", "scheduled", "sent", "errors", "p50 ms", "p99 ms", "clock ms", "dups", "skip", "late", "final", "note")
	for _, a := range fr.Agents {
		s := a.Summary
		errs := s.Errors
		clock := "unknown"
		if a.ClockKnown {
			clock = strconv.FormatFloat(a.ClockOffset, 'f', 3, 64)
		}
		note := a.Refused
		if a.Error != "" {
			note = a.Error
		}
		fmt.Fprintf(&b, "  %-24s %-14s %10d %10d %8d %8.2f %8.2f %9s %6d %6d %6d %6v %s\n", a.Agent, partList(a.Partitions), s.Scheduled, s.Sent, errs, s.Latency.P50, s.Latency.P99, clock, a.Duplicates, a.Skipped, a.LateSent, a.Final, note)
	}
	fmt.Fprintf(&b, "  clock spread %.3f ms ± %.3f between agents\n", fr.ClockSpread, fr.ClockError)
	late := fr.Late
	if late == "" {
		late = LateSkip
	}
	fmt.Fprintf(&b, "  takeovers: %d duplicates (re-sent; at least), %d skipped, %d sent late (past their time by over %gs; --late %s)\n",
		fr.Duplicates, fr.Skipped, fr.LateSent, fr.GraceS, late)
	for _, warn := range fr.Warnings {
		fmt.Fprintf(&b, "WARNING: %s\n", warn)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the merged report as indented JSON: {run, summary (the
// surge replay report), agents, clock_spread_ms, warnings, done}.
func (fr *FleetReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(fr)
}

func partList(ps []int) string {
	if len(ps) == 0 {
		return "-"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ",")
}
