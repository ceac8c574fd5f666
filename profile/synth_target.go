package profile

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// SynthTarget is what Synth makes a resampled capture follow: the parts of
// a profile it matches. A profile directory gives one (TargetOf); so does a
// capture itself (CaptureTarget), which makes a capture's own shape the
// target.
type SynthTarget struct {
	// Start is the time of the first Arrivals bin (UTC); the synthetic
	// capture starts there unless SynthConfig.Start says otherwise.
	Start time.Time
	// Step is the width of one Arrivals bin; zero means one minute.
	Step time.Duration
	// Arrivals is the number of new sessions per Step, from Start. A
	// synthetic capture longer than len(Arrivals) steps repeats the curve
	// (a daily profile over a week repeats the day).
	Arrivals []float64
	// Routes is each route group's share of requests (report.RouteGroup
	// of method and path), summing to 1; nil means not matched.
	Routes map[string]float64
	// Classes is each session class's share of sessions (SessionClass of
	// its first request), summing to 1; nil means not matched.
	Classes map[string]float64
	// Concurrency is the mean number of live sessions per Step, from
	// Start (a session is live from its first request's second to its
	// last's, as Build counts it); nil means not measured.
	Concurrency []float64
	// Lengths is the histogram of session length (first to last
	// request), in milliseconds, in the profile's buckets
	// (HistogramScheme); none means not matched.
	Lengths []Bucket
	// Classify returns the class of a session from its first request;
	// nil means SessionClass.
	Classify func(first *schema.Exchange) string
}

// step returns the bin width, one minute by default.
func (t *SynthTarget) step() time.Duration {
	if t.Step <= 0 {
		return time.Minute
	}
	return t.Step
}

// Validate returns every problem of t, each naming the field.
func (t *SynthTarget) Validate() []error {
	var errs []error
	if len(t.Arrivals) == 0 {
		errs = append(errs, errors.New("profile: no arrival curve (new sessions per minute)"))
	}
	for i, a := range t.Arrivals {
		if a < 0 || math.IsNaN(a) || math.IsInf(a, 0) {
			errs = append(errs, fmt.Errorf("profile: arrivals at %s: %v is not a count", t.Start.Add(time.Duration(i)*t.step()).UTC().Format(time.RFC3339), a))
		}
	}
	for i, b := range t.Lengths {
		if b.Upper <= b.Lower || b.Count < 0 || (i > 0 && b.Lower < t.Lengths[i-1].Upper) {
			errs = append(errs, fmt.Errorf("profile: session length bucket %d [%d, %d) ms, %d sessions: want ascending buckets and counts >= 0", i, b.Lower, b.Upper, b.Count))
			break
		}
	}
	return errs
}

// SessionClass is the default class of a session, from its first
// request, as Build names it: its device class (schema.Exchange.Device),
// or "unknown" when none was recorded.
func SessionClass(first *schema.Exchange) string {
	if first.Device == "" {
		return "unknown"
	}
	return first.Device
}

// class returns the class of a session whose first request is e.
func (t *SynthTarget) class(e *schema.Exchange) string {
	if t.Classify != nil {
		return t.Classify(e)
	}
	return SessionClass(e)
}

// route returns the route group a profile counts g under: g, or
// OtherRoute when the profile folded the groups it does not name into it.
func (t *SynthTarget) route(g string) string {
	if _, ok := t.Routes[g]; ok || t.Routes == nil {
		return g
	}
	if _, ok := t.Routes[OtherRoute]; ok {
		return OtherRoute
	}
	return g
}

// lengthBucket returns the index of the bucket of t.Lengths a length of
// ms milliseconds falls in, or -1.
func lengthBucket(bs []Bucket, ms int64) int {
	i := sort.Search(len(bs), func(i int) bool { return bs[i].Upper > ms })
	if i == len(bs) || ms < bs[i].Lower {
		return -1
	}
	return i
}

// histBuckets returns a sparse histogram's non-empty buckets.
func histBuckets(h hist) []Bucket {
	var out []Bucket
	for i, n := range h {
		if n > 0 {
			lo, hi := bucketBounds(i)
			out = append(out, Bucket{lo, hi, n})
		}
	}
	return out
}

// bucketTotal returns the sum of the counts.
func bucketTotal(bs []Bucket) int64 {
	var n int64
	for _, b := range bs {
		n += b.Count
	}
	return n
}

// TargetOf returns what Synth matches of a profile: its new sessions per
// minute, route mix (requests per route group over the whole profile),
// class mix (sessions per class) and session lengths (all classes), and
// its class rules. A rule that no longer parses is an error naming it.
func TargetOf(p *Profile) (*SynthTarget, error) {
	t := &SynthTarget{Start: p.Meta.Start.UTC(), Step: time.Minute, Routes: map[string]float64{}, Classes: map[string]float64{}}
	for _, a := range p.ArrivalsMinute {
		t.Arrivals = append(t.Arrivals, float64(a.Sessions))
	}
	for _, r := range p.RoutesMinute {
		t.Routes[r.Route] += float64(r.Requests)
	}
	for _, b := range p.SessionLength {
		t.Classes[b.Class] += float64(b.Sessions)
	}
	normalize(t.Routes)
	normalize(t.Classes)
	t.Lengths = p.SessionLengths("")
	if len(p.Concurrency) > 0 {
		// The mean over the whole minute: the seconds after the
		// capture's last one had no live session.
		t.Concurrency = make([]float64, len(t.Arrivals))
		for _, l := range p.Concurrency {
			if m := int(l.Time.Sub(t.Start) / time.Minute); m >= 0 && m < len(t.Concurrency) {
				t.Concurrency[m] += float64(l.Live) / 60
			}
		}
	}
	if texts := p.Meta.Parameters.Classes; len(texts) > 0 {
		rules := make([]ClassRule, len(texts))
		for i, text := range texts {
			r, err := ParseClass(text)
			if err != nil {
				return nil, fmt.Errorf("profile: %s parameters.classes: %w", MetaFile, err)
			}
			rules[i] = r
		}
		t.Classify = func(e *schema.Exchange) string {
			for i := range rules {
				if rules[i].Match.Matches(e, "") {
					return rules[i].Name
				}
			}
			return shaper.DefaultClass
		}
	}
	return t, nil
}
