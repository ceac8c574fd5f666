package profile

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// Series helpers shared by Show, Plot and Compare.

// Bucket is one histogram bucket: Count values in [Lower, Upper).
type Bucket struct {
	Lower, Upper int64
	Count        int64
}

// Quantile returns the q-quantile (0..1) of a histogram, interpolated
// linearly within its bucket; 0 for an empty one. A bucket one unit wide
// holds one value, its Lower (requests per session: [1, 2) is 1 request),
// so a quantile in it is that value, not something between it and Upper.
func Quantile(h []Bucket, q float64) float64 {
	var total int64
	for _, b := range h {
		total += b.Count
	}
	if total == 0 {
		return 0
	}
	want := q * float64(total)
	seen := 0.0
	for _, b := range h {
		if seen+float64(b.Count) >= want {
			if b.Upper-b.Lower <= 1 {
				return float64(b.Lower)
			}
			f := (want - seen) / float64(b.Count)
			return float64(b.Lower) + f*float64(b.Upper-b.Lower)
		}
		seen += float64(b.Count)
	}
	return float64(h[len(h)-1].Upper)
}

// SessionLengths returns the session-length histogram (ms) of a class, or
// of every class for "", buckets ascending.
func (p *Profile) SessionLengths(class string) []Bucket {
	var out []Bucket
	for _, r := range p.SessionLength {
		if class == "" || r.Class == class {
			out = append(out, Bucket{r.LowerMS, r.UpperMS, r.Sessions})
		}
	}
	return mergeBuckets(out)
}

// RequestsPerSession returns the requests-per-session histogram of a
// class, or of every class for "".
func (p *Profile) RequestsPerSession(class string) []Bucket {
	var out []Bucket
	for _, r := range p.SessionRequests {
		if class == "" || r.Class == class {
			out = append(out, Bucket{r.Lower, r.Upper, r.Sessions})
		}
	}
	return mergeBuckets(out)
}

// ThinkTimes returns the think-time histogram (ms) of a transition; empty
// from or to means any.
func (p *Profile) ThinkTimes(from, to string) []Bucket {
	var out []Bucket
	for _, r := range p.ThinkTime {
		if (from == "" || r.From == from) && (to == "" || r.To == to) {
			out = append(out, Bucket{r.LowerMS, r.UpperMS, r.Count})
		}
	}
	return mergeBuckets(out)
}

// mergeBuckets sorts buckets and adds up equal ones (every histogram of a
// profile has the same bucket edges).
func mergeBuckets(bs []Bucket) []Bucket {
	slices.SortFunc(bs, func(a, b Bucket) int { return cmp.Compare(a.Lower, b.Lower) })
	var out []Bucket
	for _, b := range bs {
		if n := len(out); n > 0 && out[n-1].Lower == b.Lower {
			out[n-1].Count += b.Count
			continue
		}
		out = append(out, b)
	}
	return out
}

// ArrivalCurve returns new sessions per minute.
func (p *Profile) ArrivalCurve() []int64 {
	out := make([]int64, len(p.ArrivalsMinute))
	for i, r := range p.ArrivalsMinute {
		out[i] = r.Sessions
	}
	return out
}

// RequestCurve returns requests per minute.
func (p *Profile) RequestCurve() []int64 {
	out := make([]int64, len(p.ArrivalsMinute))
	for i, r := range p.ArrivalsMinute {
		out[i] = r.Requests
	}
	return out
}

// ConcurrencyCurve returns the mean live sessions of each minute.
func (p *Profile) ConcurrencyCurve() []float64 { return concurrencyPerMinute(p) }

// RouteCurve returns a route group's requests per minute.
func (p *Profile) RouteCurve(route string) []int64 {
	out := make([]int64, p.Meta.Minutes)
	for _, r := range p.RoutesMinute {
		if r.Route == route {
			if m := p.minute(r.Time); m >= 0 && m < len(out) {
				out[m] = r.Requests
			}
		}
	}
	return out
}

func (p *Profile) minute(t time.Time) int { return int(t.Sub(p.Meta.Start) / time.Minute) }

// Share is one value's share of a total.
type Share struct {
	Value string
	Count int64
	Share float64 // 0..1
}

// RouteMix returns the route groups' shares of all requests, largest
// first.
func (p *Profile) RouteMix() []Share {
	m := map[string]int64{}
	for _, r := range p.RoutesMinute {
		m[r.Route] += r.Requests
	}
	return shares(m)
}

// MixOf returns the shares of a dimension's values over the whole
// profile, by requests, largest first.
func (p *Profile) MixOf(dim string) []Share {
	m := map[string]int64{}
	for _, r := range p.Mix {
		if r.Dimension == dim {
			m[r.Value] += r.Requests
		}
	}
	return shares(m)
}

// StatusMix returns the statuses' shares of a route's requests ("" for
// every route), largest first; the value is the status code.
func (p *Profile) StatusMix(route string) []Share {
	m := map[string]int64{}
	for _, r := range p.Status {
		if route == "" || r.Route == route {
			m[statusText(r.Status)] += r.Requests
		}
	}
	return shares(m)
}

func statusText(s int32) string {
	if s == 0 {
		return "none"
	}
	return strconv.Itoa(int(s))
}

func shares(m map[string]int64) []Share {
	var total int64
	out := make([]Share, 0, len(m))
	for v, n := range m {
		total += n
		out = append(out, Share{Value: v, Count: n})
	}
	for i := range out {
		if total > 0 {
			out[i].Share = float64(out[i].Count) / float64(total)
		}
	}
	slices.SortFunc(out, func(a, b Share) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Value, b.Value)
	})
	return out
}
