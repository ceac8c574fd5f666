package capture

import (
	"fmt"
	"hash/maphash"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/surge-replay/surge/schema"
)

// DefaultIdleGap is the idle time after which a client's next request starts
// a new session, when a SessionConfig leaves IdleGap zero.
const DefaultIdleGap = 30 * time.Minute

// SessionKey says where a source without session ids finds a client's
// identity: "cookie:NAME", "header:NAME", "query:NAME" or "jwt:HEADER" (the
// "sub" claim of the JWT in header HEADER, after an optional auth scheme such
// as "Bearer"; the signature is not checked). The zero value uses the client
// address and user agent.
type SessionKey struct {
	Kind string // "cookie", "header", "query", "jwt" or "" (client address + user agent)
	Name string
}

// ParseSessionKey parses "cookie:NAME", "header:NAME", "query:NAME" or
// "jwt:HEADER"; "" gives the zero SessionKey.
func ParseSessionKey(s string) (SessionKey, error) {
	if s == "" {
		return SessionKey{}, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return SessionKey{}, fmt.Errorf("session key %q: want cookie:NAME, header:NAME, query:NAME or jwt:HEADER", s)
	}
	switch kind {
	case "cookie", "header", "query", "jwt":
		return SessionKey{Kind: kind, Name: name}, nil
	}
	return SessionKey{}, fmt.Errorf("session key %q: %q is not cookie, header, query or jwt", s, kind)
}

func (k SessionKey) String() string {
	if k.Kind == "" {
		return "client address + user agent"
	}
	return k.Kind + ":" + k.Name
}

// find returns the key's raw value in e, and whether it was there.
func (k SessionKey) find(e *schema.Exchange) (string, bool) {
	switch k.Kind {
	case "cookie":
		for _, h := range e.Headers {
			if !strings.EqualFold(h.Name, "Cookie") {
				continue
			}
			for _, c := range strings.Split(h.Value, ";") {
				name, val, _ := strings.Cut(strings.TrimSpace(c), "=")
				if name == k.Name && val != "" {
					return val, true
				}
			}
		}
	case "header":
		if v, ok := e.Header(k.Name); ok && v != "" {
			return v, true
		}
	case "query":
		if q, err := url.ParseQuery(e.Query); err == nil && q.Get(k.Name) != "" {
			return q.Get(k.Name), true
		}
	case "jwt":
		if v, ok := e.Header(k.Name); ok {
			return jwtSubject(v)
		}
	}
	return "", false
}

// sessionizer assigns sessions and sequence numbers to hits in request-start
// order. A client's requests belong to one session until it is idle longer
// than the gap. Memory holds the live sessions only: sessions idle longer than
// the gap are forgotten as time moves on.
type sessionizer struct {
	key       SessionKey
	gap       time.Duration
	scrub     *Scrubber
	live      liveTable // by keyHash of the raw key
	seed      maphash.Seed
	lastSweep time.Time
	started   int64 // sessions started
	noKey     int64 // records without the configured session key
	parts     [16]partHash
	partNext  int
}

// liveSession is held by value in the live table, one 64-byte slot (a
// cache line): a lookup touches that slot, not a pointer to chase to a cold
// allocation (with thousands of clients interleaved, each cache miss per
// line was measured).
type liveSession struct {
	key     uint64 // keyHash of the raw key
	userKey uint64 // the last raw user id's maphash, to notice a change...
	user    string // ...and its hash
	id      string
	last    int64 // start of the latest request, Unix ns
	seq     int32
	used    bool // the slot holds a session
}

func newSessionizer(key SessionKey, gap time.Duration, scrub *Scrubber) *sessionizer {
	if gap <= 0 {
		gap = DefaultIdleGap
	}
	return &sessionizer{key: key, gap: gap, scrub: scrub, seed: maphash.MakeSeed()}
}

// hitKey is a hit's raw session key (kind and one or two parts, see
// rawKey), its keyHash, and the maphash of the raw user id.
type hitKey struct {
	kind, a, b string
	hash, user uint64
	set        bool
}

// prepare finds h's raw session key and hashes it and the user id, as soon
// as the hit is decoded: its text is still in the CPU's cache then, and
// not yet scrubbed (the key may be a secret cookie).
func (s *sessionizer) prepare(h *Hit) {
	kind, a, b := s.rawKey(h)
	h.key = hitKey{kind: kind, a: a, b: b, hash: s.keyHash(kind, a, b), set: true}
	if h.UserID != "" {
		h.key.user = maphash.String(s.seed, h.UserID)
	}
}

// assign sets h's Session, User and Seq, in request-start order.
func (s *sessionizer) assign(h *Hit) {
	e := &h.Exchange
	if !h.key.set {
		s.prepare(h)
	}
	kind, a, b, k := h.key.kind, h.key.a, h.key.b, h.key.hash
	now := e.Time.UnixNano()
	slot := s.live.find(k)
	ls, ok := *slot, slot.used
	// A source's own session id is never split; other keys split after the
	// idle gap.
	if !ok || (h.SessionID == "" && now-ls.last > int64(s.gap)) {
		id := kind + ":" + a + "\x00" + b
		if h.SessionID == "" {
			// The start time makes the id unique even when a forgotten
			// session's key comes back later.
			id += "@" + strconv.FormatInt(now, 10)
		}
		ls = liveSession{key: k, id: s.scrub.Hash("s", id), last: now}
		s.started++
	}
	if h.UserID != "" {
		// A session's user rarely changes: hash once per change.
		if uk := h.key.user; uk != ls.userKey || ls.user == "" {
			ls.userKey, ls.user = uk, s.scrub.Hash("u", h.UserID)
		}
		e.User = ls.user
	}
	e.Session, e.Seq = ls.id, ls.seq
	ls.seq++
	ls.last = max(ls.last, now)
	s.live.put(slot, ls)
	s.sweep(e.Time)
}

// rawKey returns what identifies h's client: a kind and one or two parts.
func (s *sessionizer) rawKey(h *Hit) (kind, a, b string) {
	if h.SessionID != "" {
		return "id", h.SessionID, ""
	}
	if v, ok := s.key.find(&h.Exchange); ok {
		return "key", v, ""
	}
	if s.key.Kind != "" {
		s.noKey++
	}
	if h.ClientOnly {
		return "client", h.Client, ""
	}
	ua, _ := h.Exchange.Header("User-Agent")
	return "client", h.Client, ua
}

// keyHash hashes a raw key without building it: live sessions are looked up
// by a 64-bit hash (collisions are negligible at the number of live sessions).
func (s *sessionizer) keyHash(kind, a, b string) uint64 {
	h := maphash.String(s.seed, kind)
	h = h*0x9e3779b97f4a7c15 ^ maphash.String(s.seed, a)
	return h*0x9e3779b97f4a7c15 ^ s.partHash(b) // = hash3(s.seed, kind, a, b)
}

// partHash is maphash.String(s.seed, b), remembered for the last long
// parts: b is mostly a user agent, of which a log has few, and a decoder
// that shares one copy of each (internUA) makes recognizing it a pointer
// comparison.
func (s *sessionizer) partHash(b string) uint64 {
	if len(b) < 32 {
		return maphash.String(s.seed, b)
	}
	for i := range s.parts {
		if s.parts[i].s == b {
			return s.parts[i].h
		}
	}
	h := maphash.String(s.seed, b)
	s.parts[s.partNext] = partHash{b, h}
	s.partNext = (s.partNext + 1) % len(s.parts)
	return h
}

type partHash struct {
	s string
	h uint64
}

// hash3 combines the hashes of three strings (maphash.Hash would copy them).
func hash3(seed maphash.Seed, a, b, c string) uint64 {
	h := maphash.String(seed, a)
	h = h*0x9e3779b97f4a7c15 ^ maphash.String(seed, b)
	return h*0x9e3779b97f4a7c15 ^ maphash.String(seed, c)
}

// sweep forgets sessions idle longer than the gap, at most once per gap.
func (s *sessionizer) sweep(now time.Time) {
	if now.Sub(s.lastSweep) < s.gap {
		return
	}
	ns := now.UnixNano()
	s.live.retain(func(ls *liveSession) bool { return ns-ls.last <= int64(s.gap) })
	s.lastSweep = now
}
