package profile

import (
	"fmt"
	"hash/maphash"
	"slices"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
)

// Pseudo route ids of the transition keys (route ids are below 2^20).
const (
	startID = 1<<20 - 1
	endID   = 1<<20 - 2
)

// routeCacheMax bounds the cache of route groups by method and path: past
// it the cache starts over (a capture of unique paths costs RouteGroup
// calls, not memory).
const routeCacheMax = 1 << 16

// session is a live session's state.
type session struct {
	first, last int64 // ns
	count       int64
	route       int32 // of the last request
	class       int32
}

// strKey identifies a string by two independent 64-bit hashes
// (hash/maphash with two seeds): a map keyed by it holds no pointer to
// chase on lookup, which on a capture of many live sessions is the cost
// of a string-keyed map (the key's cache miss), and two strings collide
// with probability 2⁻¹²⁸.
type strKey [2]uint64

// routeKey is a method and a path's 64-bit hash: the route cache holds
// at most routeCacheMax paths, among which a collision has probability
// below 10⁻¹⁰.
type routeKey struct {
	method int32
	path   uint64
}

// move counts one transition of a class, with the think-time histogram
// of its routes (shared by the classes; nil from StartRoute or to
// EndRoute).
type move struct {
	count int64
	think *hist
}

// statusCount is a route's count of one status.
type statusCount struct {
	status int32
	n      int64
}

// builder folds record batches into a profile's aggregates. Its memory is
// the time series (seconds and minutes × labels), the histograms and
// matrices (routes² at most), and the live sessions.
type builder struct {
	cfg    *Config
	start  int64 // ns, the first minute
	idle   int64 // ns
	maxLbl int

	arrSec, concDiff        []int64 // per second
	arrMin, reqMin          []int64 // per minute
	routeMin                [][]int64
	mixReq, mixSess         [3][][]int64 // per dimension, minute, value
	minT, maxT              int64
	requests, sessionsEnded int64

	methods, hosts, paths *interner // paths: only for classify's Exchange
	dims                  [3]*interner
	routes, classes       *interner
	routeCache            map[routeKey]int32
	seeds                 [2]maphash.Seed

	sessions sessionTable
	sweepAt  int64

	lengths, counts []hist           // per class
	think           map[uint64]*hist // from<<32 | to
	moves           map[uint64]*move // class<<42 | from<<21 | to
	status          [][]statusCount  // by route

	mBuf, hBuf, rBuf, dBuf, pBuf []int32
	keys                         []strKey // the batch's session keys
}

// prefetchAhead is how many rows ahead batch asks for a session's slot:
// on a capture with many live sessions nearly every lookup misses the
// caches, and these loads overlap.
const prefetchAhead = 8

func newBuilder(cfg *Config, start, last time.Time) *builder {
	max := cfg.maxRoutes()
	b := &builder{
		cfg: cfg, start: start.UnixNano(), idle: int64(cfg.sessionIdle()), maxLbl: max,
		methods: newInterner(0, ""), hosts: newInterner(0, ""),
		routes: newInterner(max, OtherRoute), routeCache: map[routeKey]int32{},
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		think: map[uint64]*hist{}, moves: map[uint64]*move{},
		minT: 1<<63 - 1, maxT: -1 << 63,
		concDiff: make([]int64, 1), // one past the last second
	}
	for d := range b.dims {
		b.dims[d] = newInterner(max, OtherRoute)
	}
	b.classes = newInterner(0, "")
	for _, r := range cfg.Classes {
		b.classes.id(r.Name)
	}
	if len(cfg.Classes) > 0 {
		b.classes.id(defaultClass)
	}
	b.grow(int(last.Sub(start) / time.Second))
	return b
}

// defaultClass is the class of sessions no rule matches.
const defaultClass = "default"

// grow makes the per-second and per-minute series cover second sec.
func (b *builder) grow(sec int) {
	for len(b.arrSec) <= sec {
		b.arrSec = append(b.arrSec, 0)
		b.concDiff = append(b.concDiff, 0)
	}
	for m := sec / 60; len(b.arrMin) <= m; {
		b.arrMin = append(b.arrMin, 0)
		b.reqMin = append(b.reqMin, 0)
		b.routeMin = append(b.routeMin, nil)
		for d := range b.mixReq {
			b.mixReq[d] = append(b.mixReq[d], nil)
			b.mixSess[d] = append(b.mixSess[d], nil)
		}
	}
}

// inc adds one to row[i], growing row.
func inc(row *[]int64, i int32) {
	if int(i) >= len(*row) {
		*row = append(*row, make([]int64, int(i)+1-len(*row))...)
	}
	(*row)[i]++
}

// batch folds one record batch (columns in buildColumns order).
func (b *builder) batch(rec arrow.RecordBatch) error {
	ts, ok := rec.Column(colTime).(*array.Timestamp)
	if !ok {
		return fmt.Errorf("column %q is %v", "time", rec.Column(colTime).DataType())
	}
	unit := int64(ts.DataType().(*arrow.TimestampType).Unit.Multiplier())
	times := ts.TimestampValues()
	sess := rec.Column(colSession).(*array.String)
	paths := rec.Column(colPath).(*array.String)
	status := rec.Column(colStatus).(*array.Int32)
	statusV := status.Int32Values()
	var err error
	if b.mBuf, err = labelColumn(rec.Column(colMethod), b.methods, b.mBuf); err != nil {
		return fmt.Errorf("column %q: %w", "method", err)
	}
	if b.hBuf, err = labelColumn(rec.Column(colHost), b.hosts, b.hBuf); err != nil {
		return fmt.Errorf("column %q: %w", "host", err)
	}
	if b.rBuf, err = labelColumn(rec.Column(colRegion), b.dims[0], b.rBuf); err != nil {
		return fmt.Errorf("column %q: %w", "region", err)
	}
	if b.dBuf, err = labelColumn(rec.Column(colDevice), b.dims[1], b.dBuf); err != nil {
		return fmt.Errorf("column %q: %w", "device", err)
	}
	if b.pBuf, err = labelColumn(rec.Column(colProtocol), b.dims[2], b.pBuf); err != nil {
		return fmt.Errorf("column %q: %w", "protocol", err)
	}
	b.keys = slices.Grow(b.keys[:0], len(times))[:len(times)]
	for i := range b.keys {
		b.keys[i] = b.key(sess.Value(i))
	}
	for i, tv := range times {
		if j := i + prefetchAhead; j < len(times) && len(b.sessions.slots) > 0 {
			prefetch(unsafe.Pointer(&b.sessions.slots[b.keys[j][0]&b.sessions.mask()]))
		}
		t := int64(tv) * unit
		if t < b.start {
			return fmt.Errorf("request at %v is before the capture's first event (%s metadata)", time.Unix(0, t).UTC(), schema.MetaFirst)
		}
		sec := int((t - b.start) / int64(time.Second))
		if sec >= len(b.arrSec) {
			b.grow(sec)
		}
		min := sec / 60
		b.minT, b.maxT = min64(b.minT, t), max64(b.maxT, t)
		b.requests++
		route := b.route(b.mBuf[i], paths.Value(i))
		b.reqMin[min]++
		inc(&b.routeMin[min], route)
		vals := [3]int32{b.rBuf[i], b.dBuf[i], b.pBuf[i]}
		for d, v := range vals {
			inc(&b.mixReq[d][min], v)
		}
		st := int32(0)
		if !status.IsNull(i) {
			st = statusV[i]
		}
		b.countStatus(route, st)

		if t >= b.sweepAt {
			b.sweep(t)
		}
		sid, key := sess.Value(i), b.keys[i]
		slot, live := b.sessions.find(key)
		if live {
			s := &b.sessions.slots[slot].session
			if t-s.last <= b.idle {
				mv := b.move(s.class, s.route, route)
				mv.count++
				mv.think.add((t - s.last) / int64(time.Millisecond))
				s.last, s.route = max64(s.last, t), route
				s.count++
				continue
			}
			// Idle too long: the same id starts a new session.
			b.end(s)
			b.sessions.remove(slot)
			slot, _ = b.sessions.find(key)
		}
		class := b.classify(i, paths.Value(i), vals)
		b.arrSec[sec]++
		b.arrMin[min]++
		for d, v := range vals {
			inc(&b.mixSess[d][min], v)
		}
		b.move(class, startID, route).count++
		s := session{first: t, last: t, count: 1, route: route, class: class}
		if sid == "" {
			b.end(&s) // no session id: a session of one request
			continue
		}
		b.sessions.insert(slot, key, s)
	}
	return nil
}

// route returns the route group id of a request.
func (b *builder) route(method int32, path string) int32 {
	k := routeKey{method, maphash.String(b.seeds[0], path)}
	if id, ok := b.routeCache[k]; ok {
		return id
	}
	if len(b.routeCache) >= routeCacheMax {
		clear(b.routeCache)
	}
	id := b.routes.id(report.RouteGroup(b.methods.names[method], path))
	b.routeCache[k] = id
	return id
}

// key returns s's strKey.
func (b *builder) key(s string) strKey {
	return strKey{maphash.String(b.seeds[0], s) | 1, maphash.String(b.seeds[1], s)} // bit 0 set: never the empty slot's key
}

// move returns the counter of a class's transition from → to.
func (b *builder) move(class, from, to int32) *move {
	k := uint64(class)<<42 | uint64(from)<<21 | uint64(to)
	mv := b.moves[k]
	if mv == nil {
		mv = &move{}
		if from != startID && to != endID {
			tk := uint64(from)<<32 | uint64(to)
			if mv.think = b.think[tk]; mv.think == nil {
				mv.think = &hist{}
				b.think[tk] = mv.think
			}
		}
		b.moves[k] = mv
	}
	return mv
}

// countStatus counts a request of route with status st.
func (b *builder) countStatus(route, st int32) {
	for int(route) >= len(b.status) {
		b.status = append(b.status, nil)
	}
	row := b.status[route]
	for i := range row {
		if row[i].status == st {
			row[i].n++
			return
		}
	}
	b.status[route] = append(row, statusCount{st, 1})
}

// classify returns the class of a session whose first request is row i.
func (b *builder) classify(i int, path string, vals [3]int32) int32 {
	rules := b.cfg.Classes
	if len(rules) == 0 {
		return b.classes.id(b.dims[1].name(vals[1]))
	}
	e := schema.Exchange{Method: b.methods.names[b.mBuf[i]], Host: b.hosts.names[b.hBuf[i]], Path: path,
		Region: b.dims[0].names[vals[0]], Device: b.dims[1].names[vals[1]], Protocol: b.dims[2].names[vals[2]]}
	for j := range rules {
		if rules[j].Match.Matches(&e, "") {
			return int32(j)
		}
	}
	return int32(len(rules))
}

// end counts an ended session: its length, requests, last transition
// and live span.
func (b *builder) end(s *session) {
	for int(s.class) >= len(b.lengths) {
		b.lengths = append(b.lengths, nil)
		b.counts = append(b.counts, nil)
	}
	b.lengths[s.class].add((s.last - s.first) / int64(time.Millisecond))
	b.counts[s.class].add(s.count)
	b.move(s.class, s.route, endID).count++
	b.concDiff[(s.first-b.start)/int64(time.Second)]++
	b.concDiff[(s.last-b.start)/int64(time.Second)+1]--
	b.sessionsEnded++
}

// sweep ends the sessions idle for longer than SessionIdle at t, and sets
// the next sweep a minute of capture time later: the live map holds the
// sessions of the last SessionIdle, not the capture's.
func (b *builder) sweep(t int64) {
	tab := &b.sessions
	for i := 0; i < len(tab.slots); {
		if s := &tab.slots[i]; s.key[0] != 0 && t-s.last > b.idle {
			b.end(&s.session)
			tab.remove(i) // a later entry may move here: look again
			continue
		}
		i++
	}
	b.sweepAt = t + int64(time.Minute)
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
