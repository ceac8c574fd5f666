package report

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/surge-replay/surge/schema"
)

// Cohorts of a request, relative to the surge time: "did the surge degrade
// the viewers already watching?" compares existing with before.
const (
	// CohortBefore holds the requests intended before the surge.
	CohortBefore = "before"
	// CohortExisting holds the requests, at or after the surge, of sessions
	// alive before it (one of their requests was intended before it).
	CohortExisting = "existing"
	// CohortArrived holds the requests of sessions that arrived during the
	// surge (their first request was at or after it).
	CohortArrived = "arrived"
)

// CohortNames lists the cohorts in report order.
var CohortNames = []string{CohortBefore, CohortExisting, CohortArrived}

// Surge is when a surge began. Offset is from the run's start (the schedule's
// clock, after --speed); Capture is the same instant in capture time, when
// known. Source says where it came from: "config" (report.surge_at,
// --surge-at) or "detected" (DetectSurge); Rule how it was detected.
type Surge struct {
	Offset  time.Duration `json:"-"`
	Capture time.Time     `json:"capture,omitzero"`
	Source  string        `json:"source"`
	Rule    string        `json:"rule,omitempty"`
}

// cohorts classifies results into cohorts and aggregates each. A session is
// a recorded session and its clone number (each clone is its own virtual
// user). A session is alive before the surge once one of its requests
// intended before it is seen: results come in completion order, so a
// request intended before the surge that completes after a later request of
// its session leaves that later request counted as arrived. Memory: about
// 40 bytes per session seen.
type cohorts struct {
	surge   Surge
	at      time.Time // the surge in wall time; zero until the start is known
	before  map[uint64]struct{}
	arrived map[uint64]struct{}
	aggs    [3]cohortAgg
}

type cohortAgg struct {
	tally
	newErrs  int64
	lat, svc sparse
}

func newCohorts(s Surge) *cohorts {
	return &cohorts{surge: s, before: map[uint64]struct{}{}, arrived: map[uint64]struct{}{}}
}

func (c *cohorts) setStart(start time.Time) { c.at = start.Add(c.surge.Offset) }

func sessionKey(r *schema.Result) uint64 {
	h := fnv.New64a()
	h.Write([]byte(r.Session))
	h.Write([]byte{0, byte(r.Clone), byte(r.Clone >> 8), byte(r.Clone >> 16), byte(r.Clone >> 24)})
	return h.Sum64()
}

// classify returns r's cohort and marks its session.
func (c *cohorts) classify(r *schema.Result) string {
	k := sessionKey(r)
	if r.Intended.Before(c.at) {
		c.before[k] = struct{}{}
		return CohortBefore
	}
	if _, ok := c.before[k]; ok {
		return CohortExisting
	}
	c.arrived[k] = struct{}{}
	return CohortArrived
}

// add folds r, of cohort name, into its cohort's aggregate.
func (c *cohorts) add(r *schema.Result, name string) {
	a := &c.aggs[slices.Index(CohortNames, name)]
	dropped := schema.IsDropped(r.Error)
	class := classify(r)
	a.tally.add(dropped, class)
	if dropped {
		return
	}
	if class != "" && !asRecorded(r) {
		a.newErrs++
	}
	a.lat.record(r.LatencyNS, runDigits)
	a.svc.record(r.ServiceNS, runDigits)
}

// asRecorded reports whether r got the status the capture recorded for its
// request: a failure the recording had too is not a new one.
func asRecorded(r *schema.Result) bool {
	return r.Status != 0 && r.Status == r.RecordedStatus
}

// CohortReport splits the run's requests at the surge time (see the
// Cohort* constants).
type CohortReport struct {
	// SurgeAt is the surge in the run's wall time; OffsetS the same in
	// seconds from the run's start.
	SurgeAt time.Time `json:"surge_at"`
	OffsetS float64   `json:"surge_offset_s"`
	Surge
	// SessionsBefore counts the sessions alive before the surge;
	// SessionsArrived those that arrived during it.
	SessionsBefore  int64           `json:"sessions_before"`
	SessionsArrived int64           `json:"sessions_arrived"`
	Cohorts         []CohortSummary `json:"cohorts"`
}

// CohortSummary is one cohort's share of the run. ErrorRate is Errors /
// Sent; NewErrors leaves out responses with the status the capture
// recorded.
type CohortSummary struct {
	Cohort    string      `json:"cohort"`
	Scheduled int64       `json:"scheduled"`
	Sent      int64       `json:"sent"`
	OK        int64       `json:"ok"`
	Errors    int64       `json:"errors"`
	NewErrors int64       `json:"new_errors"`
	Dropped   int64       `json:"dropped"`
	ErrorRate float64     `json:"error_rate"`
	Latency   Percentiles `json:"latency_ms"`
	Service   Percentiles `json:"service_ms"`
}

func (c *cohorts) report() *CohortReport {
	rep := &CohortReport{
		SurgeAt: c.at.UTC(), OffsetS: round3(c.surge.Offset.Seconds()), Surge: c.surge,
		SessionsBefore: int64(len(c.before)), SessionsArrived: int64(len(c.arrived)),
	}
	for i, name := range CohortNames {
		a := &c.aggs[i]
		s := CohortSummary{
			Cohort: name, Scheduled: a.scheduled, Sent: a.sent, OK: a.ok, Errors: a.errs,
			NewErrors: a.newErrs, Dropped: a.dropped,
			Latency: percentiles(a.lat.quantiler(), a.lat.max), Service: percentiles(a.svc.quantiler(), a.svc.max),
		}
		if a.sent > 0 {
			s.ErrorRate = round6(float64(a.errs) / float64(a.sent))
		}
		rep.Cohorts = append(rep.Cohorts, s)
	}
	return rep
}

func round6(v float64) float64 { return float64(int64(v*1e6+0.5)) / 1e6 }

// Surge detection: the default rule's factor and history, in bins of one
// minute of capture time.
const (
	SurgeFactor   = 2.0
	SurgeTrailing = 10
	SurgeHistory  = 3
)

// DetectSurge finds the start of a surge in counts, the number of requests
// intended in consecutive equal bins (one minute of capture time each): the
// first bin, after at least SurgeHistory bins, whose count exceeds
// SurgeFactor × the median of the up to SurgeTrailing bins before it (and
// that median is above zero). It returns the bin's index, or false when no
// bin does.
func DetectSurge(counts []int64) (int, bool) {
	for i := SurgeHistory; i < len(counts); i++ {
		m := median(counts[max(0, i-SurgeTrailing):i])
		if m > 0 && float64(counts[i]) > SurgeFactor*m {
			return i, true
		}
	}
	return 0, false
}

// SurgeRule describes DetectSurge's rule, for the report.
func SurgeRule() string {
	return fmt.Sprintf("first minute of capture time whose intended requests exceed %g x the median of the %d minutes before it", SurgeFactor, SurgeTrailing)
}

func median(v []int64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return float64(s[n/2-1]+s[n/2]) / 2
}

// SurgeCounter bins times (intended or capture times) for DetectSurge.
// Bin is the length of a bin: a minute of capture time, which is a minute /
// speed of run time. The zero Bin means one minute.
type SurgeCounter struct {
	Bin    time.Duration
	counts map[int64]int64
	lo, hi int64
}

// Add counts one request at t.
func (c *SurgeCounter) Add(t time.Time) {
	if c.counts == nil {
		c.counts = map[int64]int64{}
		if c.Bin <= 0 {
			c.Bin = time.Minute
		}
	}
	i := t.UnixNano() / int64(c.Bin)
	if len(c.counts) == 0 || i < c.lo {
		c.lo = i
	}
	if len(c.counts) == 0 || i > c.hi {
		c.hi = i
	}
	c.counts[i]++
}

// Detect returns the start of the surge's bin, or false (see DetectSurge).
func (c *SurgeCounter) Detect() (time.Time, bool) {
	if len(c.counts) == 0 || c.hi-c.lo > 7*24*60*60 {
		return time.Time{}, false
	}
	counts := make([]int64, c.hi-c.lo+1)
	for i, n := range c.counts {
		counts[i-c.lo] = n
	}
	i, ok := DetectSurge(counts)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, (c.lo+int64(i))*int64(c.Bin)).UTC(), true
}

// writeCohorts writes the cohort split, when there is one.
func (s *RunSummary) writeCohorts(b *strings.Builder) {
	c := s.Cohorts
	if c == nil {
		return
	}
	how := c.Source
	if c.Rule != "" {
		how += ": " + c.Rule
	}
	fmt.Fprintf(b, "\n  cohorts at the surge, %s (+%s s; %s)\n", c.SurgeAt.Format(time.RFC3339), num(c.OffsetS), how)
	fmt.Fprintf(b, "  %-9s %11s %8s %8s %9s %9s  %s\n", "cohort", "sent", "err", "new err", "p50 ms", "p99 ms", "sessions")
	for _, g := range c.Cohorts {
		sessions := ""
		switch g.Cohort {
		case CohortBefore:
			sessions = count(c.SessionsBefore) + " alive before"
		case CohortArrived:
			sessions = count(c.SessionsArrived) + " arrived"
		}
		p50, p99 := "-", "-" // an empty cohort has no latency, not 0 ms
		if g.Sent > 0 {
			p50, p99 = millis(g.Latency.P50), millis(g.Latency.P99)
		}
		fmt.Fprintf(b, "  %-9s %11s %8s %8s %9s %9s  %s\n", g.Cohort, count(g.Sent), percent(g.Errors, g.Sent),
			percent(g.NewErrors, g.Sent), p50, p99, sessions)
	}
}
