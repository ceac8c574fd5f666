package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/surge-replay/surge/schema"
)

// Defaults of Options.
const (
	DefaultReorderWindow = 30 * time.Second
	DefaultMaxBuffered   = 100_000
	DefaultHost          = "localhost"
)

// Options configure Import and ImportViews. The zero value works except
// Scrub.Key, which must be set.
type Options struct {
	// Session is where a client's identity is found when the source has no
	// session ids. Zero means client address + user agent.
	Session SessionKey
	// IdleGap splits a client's requests into sessions. Zero means
	// DefaultIdleGap.
	IdleGap time.Duration
	// ReorderWindow is how far back in time a record may start relative to
	// the latest log time seen and still be put in order. Records are held
	// no longer than the largest request time seen so far (plus a second of
	// clock resolution) requires, up to this window. Zero means
	// DefaultReorderWindow; negative means no re-ordering.
	ReorderWindow time.Duration
	// MaxBuffered bounds the records held for re-ordering (memory). Zero
	// means DefaultMaxBuffered.
	MaxBuffered int
	// Strict stops at the first bad record instead of skipping it.
	Strict bool
	// MaxProblems is how many bad records the Report keeps as examples. Zero
	// means DefaultMaxProblems.
	MaxProblems int
	// Host is the host of records that name none. Empty means DefaultHost.
	Host string
	// Scrub configures scrubbing; Scrub.Key is required.
	Scrub ScrubConfig
	// Frames receives the WebSocket messages of upgrades whose source
	// records them (HAR _webSocketMessages, JSON lines frames), right
	// after their upgrade went to emit, with the upgrade's Session, Conn
	// (replay.ConnID: "<session>#<seq>") and Seq in message order, payloads
	// scrubbed as bodies. Nil drops them (counted in Report.FramesDropped).
	// It takes ownership of the frame.
	Frames func(*schema.Frame) error
}

func (o *Options) window() time.Duration {
	if o.ReorderWindow == 0 {
		return DefaultReorderWindow
	}
	return max(o.ReorderWindow, 0)
}

func (o *Options) maxBuffered() int {
	if o.MaxBuffered <= 0 {
		return DefaultMaxBuffered
	}
	return o.MaxBuffered
}

// ErrNoKey is returned by Import when Options.Scrub.Key is empty.
var ErrNoKey = errors.New("capture: no scrub key: set one (config scrub.key or SURGE_SCRUB_KEY) so user ids and secrets are keyed-hashed")

// Input is one input of an import: a name for errors and its decoder.
type Input struct {
	Name   string
	Decode Decoder
}

// Import reads inputs (merged by the time their records were written, so logs
// of several servers interleave), puts records in request-start order within
// the re-order window, sessionizes and scrubs them, and hands each valid
// Exchange to emit, which takes ownership of it. Bad records are skipped and
// counted (or stop the import when Strict). emit's error stops the import.
func Import(ctx context.Context, inputs []Input, opts Options, emit func(*schema.Exchange) error) (*Report, error) {
	if len(opts.Scrub.Key) == 0 {
		return nil, ErrNoKey
	}
	p := &pipeline{
		opts:  opts,
		rep:   &Report{},
		scrub: NewScrubber(opts.Scrub),
		emit:  emit,
	}
	p.sess = newSessionizer(opts.Session, opts.IdleGap, p.scrub)
	for _, in := range inputs {
		p.rep.Files = append(p.rep.Files, in.Name)
	}
	err := p.run(ctx, inputs)
	for _, s := range p.srcs {
		r := Resolution{File: s.in.Name}
		if s.res > 0 {
			r.Resolution, r.NS = time.Duration(s.res).String(), int64(s.res)
		}
		p.rep.Resolutions = append(p.rep.Resolutions, r)
	}
	if c := coarsest(p.rep.Resolutions); c > 0 {
		p.rep.TimeResolution = c.String()
	}
	p.rep.Sessions = p.sess.started
	p.rep.NoSessionKey = p.sess.noKey
	p.rep.Scrubbed = Scrubbed{Headers: p.scrub.Headers, Query: p.scrub.Query, Fields: p.scrub.Fields, Users: p.scrub.Users, Values: p.scrub.Values}
	return p.rep, err
}

type pipeline struct {
	opts    Options
	rep     *Report
	scrub   *Scrubber
	sess    *sessionizer
	emit    func(*schema.Exchange) error
	pending hitQueue
	maxLag  time.Duration // largest log time - request start seen
	free    []*Hit
	latest  time.Time // latest log time seen
	maxTime time.Time // latest request start seen
	emitted time.Time // request start of the last record released
	srcs    []*source
}

func (p *pipeline) run(ctx context.Context, inputs []Input) error {
	srcs := make([]*source, 0, len(inputs))
	for _, in := range inputs {
		srcs = append(srcs, &source{in: in})
	}
	p.srcs = srcs
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s, err := p.nextSource(srcs)
		if err != nil {
			return err
		}
		if s == nil {
			break
		}
		h := s.head
		s.head = nil
		if err := p.add(h); err != nil {
			return err
		}
	}
	for p.pending.Len() > 0 {
		if err := p.release(p.pending.pop()); err != nil {
			return err
		}
	}
	return nil
}

// source is an input with its next hit read ahead.
type source struct {
	in   Input
	head *Hit
	done bool
	res  resolution // of the records read so far
}

// nextSource fills every source's head and returns the source whose head was
// written first, or nil when all are done.
func (p *pipeline) nextSource(srcs []*source) (*source, error) {
	var best *source
	for _, s := range srcs {
		for s.head == nil && !s.done {
			h := p.newHit()
			// No decoder's words leave capture unscrubbed: a skip reason
			// or error may quote the raw record.
			err := p.scrub.scrubError(s.in.Decode(h))
			switch {
			case err == nil:
				p.prepare(h)
				s.head = h
				s.res.add(logTime(h))
				continue
			case errors.Is(err, io.EOF):
				s.done = true
			default:
				if err := p.rep.bad(err, p.opts.Strict, p.opts.MaxProblems); err != nil {
					return nil, fmt.Errorf("capture: %s: %w", s.in.Name, err)
				}
			}
			p.free = append(p.free, h)
		}
		if s.head != nil && (best == nil || logTime(s.head).Before(logTime(best.head))) {
			best = s
		}
	}
	return best, nil
}

func logTime(h *Hit) time.Time {
	if h.LogTime.IsZero() {
		return h.Exchange.Time
	}
	return h.LogTime
}

func (p *pipeline) newHit() *Hit {
	if n := len(p.free); n > 0 {
		h := p.free[n-1]
		p.free = p.free[:n-1]
		h.Reset()
		return h
	}
	return &Hit{}
}

// prepare does a new record's work that does not depend on the order of
// records, while its text is still in the CPU's cache (release comes a
// window of records later): the raw session key is found and hashed, then
// the record is scrubbed. A CONNECT is left for release to skip.
func (p *pipeline) prepare(h *Hit) {
	if h.Exchange.Method == "CONNECT" {
		return
	}
	p.sess.prepare(h)
	p.scrub.Exchange(&h.Exchange)
}

// add accounts for a new record and releases the records the window has
// passed.
func (p *pipeline) add(h *Hit) error {
	p.rep.Records++
	t := h.Exchange.Time
	if t.Before(p.maxTime) {
		p.rep.Disordered++
		p.rep.MaxDisorderMS = max(p.rep.MaxDisorderMS, p.maxTime.Sub(t).Milliseconds())
	} else {
		p.maxTime = t
	}
	lt := logTime(h)
	if lt.After(p.latest) {
		p.latest = lt
	}
	p.maxLag = max(p.maxLag, lt.Sub(t))
	p.pending.push(h)
	horizon := p.latest.Add(-min(p.opts.window(), p.maxLag+time.Second))
	for p.pending.Len() > 0 && (p.pending.front().Exchange.Time.Before(horizon) || p.pending.Len() > p.opts.maxBuffered()) {
		p.prefetchAhead()
		if err := p.release(p.pending.pop()); err != nil {
			return err
		}
	}
	return nil
}

// releaseAhead is how many records ahead of the one released prefetchAhead
// prefetches its text and live session, and twice that its Hit.
const releaseAhead = 8

// prefetchAhead starts loading what releasing the records a little behind
// the front reads: records are released a window after they were decoded,
// when they have left the CPU's cache, and their live sessions' slots are
// spread over a large table. Without it each is a wait for memory on every
// record (measured: the path check of Validate and the slot lookup).
func (p *pipeline) prefetchAhead() {
	q := &p.pending
	if i := q.head + 2*releaseAhead; i < len(q.items) {
		h := q.items[i]
		prefetch(unsafe.Pointer(h))
		prefetch(unsafe.Pointer(&h.Exchange.Headers))
		prefetch(unsafe.Pointer(&h.key))
	}
	if i := q.head + releaseAhead; i < len(q.items) {
		h := q.items[i]
		if h.key.set {
			p.sess.live.prefetch(h.key.hash)
		}
		if h.Exchange.Path != "" {
			prefetch(unsafe.Pointer(unsafe.StringData(h.Exchange.Path)))
		}
	}
}

// emitFrames hands the WebSocket messages of h, whose exchange was
// emitted, to Options.Frames.
func (p *pipeline) emitFrames(h *Hit) error {
	if len(h.Frames) == 0 {
		return nil
	}
	defer func() { h.Frames = h.Frames[:0] }()
	if p.opts.Frames == nil {
		p.rep.FramesDropped += int64(len(h.Frames))
		return nil
	}
	e := &h.Exchange
	conn := e.Session + "#" + strconv.Itoa(int(e.Seq))
	for i := range h.Frames {
		f := h.Frames[i] // a copy: Frames takes ownership
		f.Session, f.Conn, f.Seq = e.Session, conn, int32(i)
		if len(f.Payload) > 0 && (f.Opcode == schema.OpText || f.Opcode == schema.OpBinary) {
			n := len(f.Payload)
			f.Payload = p.scrub.body(f.Payload)
			if !f.PayloadTruncated {
				f.PayloadSize += int64(len(f.Payload) - n)
			}
		}
		if err := p.opts.Frames(&f); err != nil {
			return err
		}
		p.rep.Frames++
	}
	return nil
}

// release completes a record in request-start order and emits it.
func (p *pipeline) release(h *Hit) error {
	defer func() {
		// emit owns the exchange's slices now; recycle the rest.
		h.Exchange.Headers, h.Exchange.Body = nil, nil
		p.free = append(p.free, h)
	}()
	e := &h.Exchange
	if e.Time.Before(p.emitted) {
		p.rep.Late++
	} else {
		p.emitted = e.Time
	}
	if e.Host == "" {
		e.Host = p.opts.Host
		if e.Host == "" {
			e.Host = DefaultHost
		}
	}
	if e.Scheme == "" {
		e.Scheme = "http"
	}
	if e.Protocol == "" {
		e.Protocol = schema.ProtoHTTP11
	}
	if e.Method == "CONNECT" {
		// A source that has no reason of its own (JSON lines, HAR).
		p.rep.Records-- // bad counts it again
		return p.rep.bad(p.scrub.scrubError(&RecordError{Pos: h.Pos, Field: "method", Reason: connectReason(e.Host)}), p.opts.Strict, p.opts.MaxProblems)
	}
	if !h.key.set {
		p.prepare(h)
	}
	p.sess.assign(h)
	if errs := e.Validate(); len(errs) > 0 {
		p.rep.Records-- // bad counts it again
		return p.rep.bad(p.scrub.scrubError(&RecordError{Pos: h.Pos, Reason: "invalid event: " + joinErrs(errs)}), p.opts.Strict, p.opts.MaxProblems)
	}
	if err := p.emit(e); err != nil {
		return err
	}
	p.rep.Events++
	if err := p.emitFrames(h); err != nil {
		return err
	}
	if e.BodyTruncated {
		p.rep.Truncated++
		max := p.opts.MaxProblems
		if max <= 0 {
			max = DefaultMaxProblems
		}
		if len(p.rep.TruncatedAt) < max {
			p.rep.TruncatedAt = append(p.rep.TruncatedAt, Problem{File: h.Pos.File, Line: h.Pos.Line, Offset: h.Pos.Offset, Field: "body",
				Reason: fmt.Sprintf("%s %s: body kept in part, %d of %d bytes", e.Method, e.Path, len(e.Body), e.BodySize)})
		}
	}
	p.rep.span(e.Time)
	return nil
}

func joinErrs(errs []error) string {
	s := make([]string, len(errs))
	for i, err := range errs {
		s[i] = err.Error()
	}
	return strings.Join(s, "; ")
}

// hitQueue holds hits in request-start order (equal times in arrival
// order). Input is nearly in order, so a push is an append or a short
// insertion near the back, and a pop takes the front.
type hitQueue struct {
	items []*Hit
	head  int
}

func (q *hitQueue) Len() int { return len(q.items) - q.head }

func (q *hitQueue) front() *Hit { return q.items[q.head] }

func (q *hitQueue) push(h *Hit) {
	n := len(q.items)
	t := h.Exchange.Time
	if n == q.head || !t.Before(q.items[n-1].Exchange.Time) {
		q.items = append(q.items, h)
		return
	}
	// The first item after t, searched from the back where it usually is.
	i := q.head + sort.Search(n-q.head, func(i int) bool { return q.items[q.head+i].Exchange.Time.After(t) })
	q.items = slices.Insert(q.items, i, h)
}

func (q *hitQueue) pop() *Hit {
	h := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if q.head >= 1024 && q.head*2 >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return h
}

// ViewInput is one input of a viewing-history import.
type ViewInput struct {
	Name   string
	Decode ViewDecoder
}

// ImportViews reads viewing events, hashes their user (and session) ids with
// the scrub key, validates them and hands each to emit, which takes ownership.
// Viewing events are not re-ordered here: the Parquet writer sorts by time.
func ImportViews(ctx context.Context, inputs []ViewInput, opts Options, emit func(*schema.ViewingEvent) error) (*Report, error) {
	if len(opts.Scrub.Key) == 0 {
		return nil, ErrNoKey
	}
	rep := &Report{}
	scrub := NewScrubber(opts.Scrub)
	for _, in := range inputs {
		rep.Files = append(rep.Files, in.Name)
		for n := 0; ; n++ {
			if n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return rep, err
				}
			}
			var v schema.ViewingEvent
			var pos Position
			err := scrub.scrubError(in.Decode(&v, &pos))
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if err := rep.bad(err, opts.Strict, opts.MaxProblems); err != nil {
					return rep, fmt.Errorf("capture: %s: %w", in.Name, err)
				}
				continue
			}
			if v.User != "" {
				v.User = scrub.Hash("u", v.User)
			}
			if v.Session != "" {
				v.Session = scrub.Hash("s", v.Session)
			}
			if v.Source == "" {
				v.Source = "views"
			}
			if errs := v.Validate(); len(errs) > 0 {
				if err := rep.bad(scrub.scrubError(&RecordError{Pos: pos, Reason: "invalid event: " + joinErrs(errs)}), opts.Strict, opts.MaxProblems); err != nil {
					return rep, fmt.Errorf("capture: %s: %w", in.Name, err)
				}
				continue
			}
			if err := emit(&v); err != nil {
				return rep, err
			}
			rep.Records++
			rep.Events++
			rep.span(v.Time)
		}
	}
	return rep, nil
}
