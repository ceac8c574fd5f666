package profile

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// finish ends the live sessions and turns the aggregates into tables.
func (b *builder) finish() *Profile {
	for i := range b.sessions.slots {
		if s := &b.sessions.slots[i]; s.key[0] != 0 {
			b.end(&s.session)
		}
	}
	b.sessions = sessionTable{}
	start := time.Unix(0, b.start).UTC()
	secs := int((b.maxT-b.start)/int64(time.Second)) + 1
	mins := (secs + 59) / 60
	p := &Profile{Meta: Meta{
		First: time.Unix(0, b.minT).UTC(), Last: time.Unix(0, b.maxT).UTC(), Start: start,
		Minutes: mins, Seconds: secs, Requests: b.requests, Sessions: b.sessionsEnded,
		Routes: b.routes.names, Classes: b.classes.names,
		Resolution: Resolution{ArrivalsSecond: "1s", Minute: "1m", Concurrency: "1s", Histogram: HistogramScheme},
	}}
	p.Meta.Parameters = Parameters{
		SessionIdle: b.cfg.sessionIdle().String(), MaxRoutes: b.maxLbl,
		MomentChange: b.cfg.momentChange(), MomentWindow: b.cfg.momentWindow(), MomentZ: b.cfg.momentZ(),
	}
	for _, r := range b.cfg.Classes {
		p.Meta.Parameters.Classes = append(p.Meta.Parameters.Classes, r.Text)
	}
	minute := func(m int) time.Time { return start.Add(time.Duration(m) * time.Minute) }

	p.ArrivalsSecond = make([]ArrivalSecond, secs)
	p.Concurrency = make([]Live, secs)
	live := int64(0)
	for s := range secs {
		t := start.Add(time.Duration(s) * time.Second)
		live += b.concDiff[s]
		p.ArrivalsSecond[s] = ArrivalSecond{Time: t, Sessions: b.arrSec[s]}
		p.Concurrency[s] = Live{Time: t, Live: live}
		p.Meta.PeakConcurrency = max(p.Meta.PeakConcurrency, live)
	}
	p.ArrivalsMinute = make([]ArrivalMinute, mins)
	for m := range mins {
		p.ArrivalsMinute[m] = ArrivalMinute{Time: minute(m), Sessions: b.arrMin[m], Requests: b.reqMin[m]}
		for r, n := range b.routeMin[m] {
			if n > 0 {
				p.RoutesMinute = append(p.RoutesMinute, RouteMinute{Time: minute(m), Route: b.routes.names[r], Requests: n})
			}
		}
	}
	dimNames := [3]string{DimRegion, DimDevice, DimProtocol}
	for m := range mins {
		for d, in := range b.dims {
			req, ses := b.mixReq[d][m], b.mixSess[d][m]
			for v := range in.names {
				var nr, ns int64
				if v < len(req) {
					nr = req[v]
				}
				if v < len(ses) {
					ns = ses[v]
				}
				if nr > 0 || ns > 0 {
					p.Mix = append(p.Mix, Mix{Time: minute(m), Dimension: dimNames[d], Value: in.name(int32(v)), Requests: nr, Sessions: ns})
				}
			}
		}
	}
	for c := range b.lengths {
		class := b.classes.names[c]
		for i, n := range b.lengths[c] {
			if n > 0 {
				lo, hi := bucketBounds(i)
				p.SessionLength = append(p.SessionLength, LengthBucket{Class: class, LowerMS: lo, UpperMS: hi, Sessions: n})
			}
		}
		for i, n := range b.counts[c] {
			if n > 0 {
				lo, hi := bucketBounds(i)
				p.SessionRequests = append(p.SessionRequests, CountBucket{Class: class, Lower: lo, Upper: hi, Sessions: n})
			}
		}
	}
	p.ThinkTime = b.thinkTable()
	p.Transitions = b.transTable()
	for r, row := range b.status {
		row = slices.Clone(row)
		slices.SortFunc(row, func(a, b statusCount) int { return cmp.Compare(a.status, b.status) })
		for _, sc := range row {
			p.Status = append(p.Status, StatusCount{Route: b.routes.names[r], Status: sc.status, Requests: sc.n})
		}
	}
	p.Meta.Parameters.MomentEdge = momentEdge(p)
	p.Moments = detectMoments(p)
	return p
}

func (b *builder) routeName(id int32) string {
	switch id {
	case startID:
		return StartRoute
	case endID:
		return EndRoute
	}
	return b.routes.names[id]
}

func (b *builder) thinkTable() []ThinkBucket {
	var rows []ThinkBucket
	for _, k := range sortedKeys(b.think) {
		from, to := b.routeName(int32(k>>32)), b.routeName(int32(uint32(k)))
		for i, n := range *b.think[k] {
			if n > 0 {
				lo, hi := bucketBounds(i)
				rows = append(rows, ThinkBucket{From: from, To: to, LowerMS: lo, UpperMS: hi, Count: n})
			}
		}
	}
	return rows
}

// transTable returns the transition matrix, each (class, from) row's
// probabilities summing to 1.
func (b *builder) transTable() []Transition {
	out := map[uint64]int64{} // class<<21 | from
	for k, mv := range b.moves {
		out[k>>21] += mv.count
	}
	var rows []Transition
	for _, k := range sortedKeys(b.moves) {
		n := b.moves[k].count
		rows = append(rows, Transition{
			Class: b.classes.names[k>>42], From: b.routeName(int32(k >> 21 & (1<<21 - 1))), To: b.routeName(int32(k & (1<<21 - 1))),
			Count: n, Probability: float64(n) / float64(out[k>>21]),
		})
	}
	return rows
}

func sortedKeys[V any](m map[uint64]V) []uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// momentEdge is how many minutes at each end of the capture are not
// searched for moments: sessions already running when the capture starts
// show up (as arrivals, raising concurrency) only at their first request
// in it, and sessions still running at its end seem to end at their last
// one, both within about one think time. So the edge is the 95th
// percentile think time, rounded up to whole minutes, at least 1 and at
// most a quarter of the capture.
func momentEdge(p *Profile) int {
	var total int64
	for _, r := range p.ThinkTime {
		total += r.Count
	}
	edgeMS := int64(0)
	if total > 0 {
		byUpper := slices.Clone(p.ThinkTime)
		slices.SortFunc(byUpper, func(a, b ThinkBucket) int { return cmp.Compare(a.UpperMS, b.UpperMS) })
		need, seen := int64(math.Ceil(0.95*float64(total))), int64(0)
		for _, r := range byUpper {
			seen += r.Count
			if seen >= need {
				edgeMS = r.UpperMS
				break
			}
		}
	}
	edge := int((edgeMS + 59999) / 60000)
	return min(max(edge, 1), max(p.Meta.Minutes/4, 1))
}
