package profile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

// pool is what Synth knows of a capture's recorded sessions before it
// copies any: one small summary per session (not its events), the route
// groups they use, and each session's sampling weight.
type pool struct {
	paths    []string
	first    time.Time // the capture's first request
	last     time.Time // its last request
	origin   time.Time // first, down to the whole step: minute 0
	step     time.Duration
	sessions []poolSession
	routes   []string         // route groups, by index
	routeIdx map[string]int32 // route group -> index
	byMinute [][]int32        // sessions by the step their first request is in
	events   int64
	// cache holds the capture's events when they fit in the budget
	// (cacheable, from the scan's estimate): a short capture copied into
	// a long one is then read once, not once per pass. The first pass
	// fills it as it reads the files; passes opened after it is full
	// (cached) read it.
	cache      []schema.Exchange
	cacheBytes int64
	cacheable  bool
	cached     bool
	filling    bool // a pass is filling the cache
}

// poolSession is one recorded session.
type poolSession struct {
	id         string
	start, end time.Time
	requests   int32
	class      string
	routes     []routeCount
	weight     float64
	lengthKey  string // the target's length bucket, for raking
}

type routeCount struct {
	route int32
	n     int32
}

// lengthMS returns the session's length in milliseconds, as a profile
// measures it.
func (s *poolSession) lengthMS() int64 { return int64(s.end.Sub(s.start) / time.Millisecond) }

// scanPool reads the capture at paths once (the replay projection, column
// by column) and summarizes its sessions, and whether its events fit in
// budget bytes of memory (budget ≤ 0: never cached). An event without a
// session id is a session of one (sessionKey).
func scanPool(ctx context.Context, paths []string, t *SynthTarget, budget int64) (*pool, error) {
	step := t.step()
	rd, err := eventlog.Open[schema.RequestLine](paths, eventlog.Range{})
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	p := &pool{paths: paths, step: step, routeIdx: map[string]int32{}}
	index := map[string]int32{}
	groups := map[[2]string]int32{} // (method, path) -> route, saves RouteGroup per request
	for {
		if p.events%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		l, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		id := sessionKey(l.Session, p.events)
		if p.events == 0 {
			p.first = l.Time
		}
		p.last = l.Time
		p.events++
		p.cacheBytes += eventSize(l)
		i, ok := index[id]
		if !ok {
			i = int32(len(p.sessions))
			index[id] = i
			e := l.Exchange()
			p.sessions = append(p.sessions, poolSession{id: id, start: l.Time, class: t.class(&e), weight: 1})
		}
		s := &p.sessions[i]
		s.end = l.Time
		s.requests++
		key := [2]string{l.Method, l.Path}
		r, ok := groups[key]
		if !ok {
			r = p.route(t.route(report.RouteGroup(l.Method, l.Path)))
			if len(groups) < 1<<16 { // bounded: paths with ids are many
				groups[key] = r
			}
		}
		s.count(r)
	}
	p.cacheable = budget > 0 && p.cacheBytes <= budget
	if len(p.sessions) == 0 {
		return nil, fmt.Errorf("profile: synth: %v: no events", paths)
	}
	p.origin = p.first.Truncate(step)
	n := int(p.last.Sub(p.origin)/step) + 1
	p.byMinute = make([][]int32, n)
	for i := range p.sessions {
		m := int(p.sessions[i].start.Sub(p.origin) / step)
		p.byMinute[m] = append(p.byMinute[m], int32(i))
	}
	return p, nil
}

// sessionKey returns the key of the session of the n-th event read (from
// 0): its session id, or for an event without one a key of its own (a
// session of one, as a profile counts it) that no session id has.
func sessionKey(session string, n int64) string {
	if session != "" {
		return session
	}
	return "\x00" + strconv.FormatInt(n, 36)
}

// eventSize estimates the memory an event holds, in bytes.
func eventSize(e *schema.RequestLine) int64 {
	n := int64(256 + len(e.Session) + len(e.User) + len(e.Path) + len(e.Query) + len(e.Body))
	for _, h := range e.Headers {
		n += int64(32 + len(h.Name) + len(h.Value))
	}
	return n
}

func (p *pool) route(g string) int32 {
	r, ok := p.routeIdx[g]
	if !ok {
		r = int32(len(p.routes))
		p.routeIdx[g] = r
		p.routes = append(p.routes, g)
	}
	return r
}

func (s *poolSession) count(r int32) {
	for k := range s.routes {
		if s.routes[k].route == r {
			s.routes[k].n++
			return
		}
	}
	s.routes = append(s.routes, routeCount{route: r, n: 1})
}

// normalize scales m's values to sum to 1.
func normalize(m map[string]float64) {
	var total float64
	for _, v := range m {
		total += v
	}
	if total <= 0 {
		return
	}
	for k, v := range m {
		m[k] = v / total
	}
}

// reweight sets the sessions' sampling weights so that the weighted pool
// has t's class mix, session-length distribution and route mix, as near as
// the pool allows: raking (iterative proportional fitting) on the two
// session-level mixes, and for the request-level route mix a
// multiplicative step on each session by the geometric mean of its routes'
// target-to-current ratios. A pool already shaped like t keeps weight 1.
func (p *pool) reweight(t *SynthTarget) {
	const rounds = 40
	for i := range p.sessions {
		s := &p.sessions[i]
		s.weight = 1
		s.lengthKey = strconv.Itoa(lengthBucket(t.Lengths, s.lengthMS()))
	}
	for range rounds {
		if len(t.Classes) > 0 {
			p.rake(func(s *poolSession) string { return s.class }, t.Classes)
		}
		if total := bucketTotal(t.Lengths); total > 0 {
			want := map[string]float64{}
			for i, b := range t.Lengths {
				want[strconv.Itoa(i)] = float64(b.Count) / float64(total)
			}
			p.rake(func(s *poolSession) string { return s.lengthKey }, want)
		}
		if len(t.Routes) > 0 {
			p.tiltRoutes(t.Routes)
		}
	}
	var total float64
	for i := range p.sessions {
		total += p.sessions[i].weight
	}
	mean := total / float64(len(p.sessions))
	for i := range p.sessions {
		if mean > 0 {
			p.sessions[i].weight /= mean
		}
	}
}

// rake scales the weights so that each key's weighted share is want's;
// keys the pool lacks (or want lacks) are left as they are.
func (p *pool) rake(key func(*poolSession) string, want map[string]float64) {
	have := map[string]float64{}
	var total float64
	for i := range p.sessions {
		s := &p.sessions[i]
		have[key(s)] += s.weight
		total += s.weight
	}
	if total == 0 {
		return
	}
	for i := range p.sessions {
		s := &p.sessions[i]
		k := key(s)
		if w, ok := want[k]; ok && have[k] > 0 && w > 0 {
			s.weight *= w / (have[k] / total)
		}
	}
}

// tiltRoutes moves the weighted route mix toward want.
func (p *pool) tiltRoutes(want map[string]float64) {
	mix := p.routeMix()
	logRatio := make([]float64, len(p.routes))
	for r, g := range p.routes {
		if w, ok := want[g]; ok && w > 0 && mix[r] > 0 {
			logRatio[r] = math.Log(w / mix[r])
		}
	}
	for i := range p.sessions {
		s := &p.sessions[i]
		var e float64
		for _, rc := range s.routes {
			e += float64(rc.n) / float64(s.requests) * logRatio[rc.route]
		}
		s.weight *= math.Exp(min(max(e, -2), 2))
	}
}

// routeMix returns the weighted share of requests per route index.
func (p *pool) routeMix() []float64 {
	mix := make([]float64, len(p.routes))
	var total float64
	for i := range p.sessions {
		s := &p.sessions[i]
		for _, rc := range s.routes {
			mix[rc.route] += s.weight * float64(rc.n)
			total += s.weight * float64(rc.n)
		}
	}
	for r := range mix {
		mix[r] /= total
	}
	return mix
}

// candidates returns, for each of n target steps, the sessions that may be
// copied into it: those that started in the capture step it maps to
// (proportionally, when the capture and the target differ in length),
// widened step by step until there is one with weight.
func (p *pool) candidates(n int) [][]int32 {
	out := make([][]int32, n)
	c := len(p.byMinute)
	for i := range n {
		at := i
		if c != n {
			at = int(float64(i) * float64(c) / float64(n))
		}
		for w := 0; w <= c; w++ {
			var cand []int32
			for m := max(at-w, 0); m <= min(at+w, c-1); m++ {
				for _, s := range p.byMinute[m] {
					if p.sessions[s].weight > 0 {
						cand = append(cand, s)
					}
				}
			}
			if len(cand) > 0 {
				slices.Sort(cand)
				out[i] = cand
				break
			}
		}
	}
	return out
}
