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
	live      map[uint64]liveSession // by keyHash of the raw key
	seed      maphash.Seed
	lastSweep time.Time
	started   int64 // sessions started
	noKey     int64 // records without the configured session key
}

// liveSession is held by value in the live map: a lookup touches one map
// slot, not a pointer to chase to a cold allocation (with thousands of
// clients interleaved, that second cache miss per line was measured).
type liveSession struct {
	id      string
	user    string // the hash of the last raw user id seen...
	userKey uint64 // ...and that raw id's maphash, to notice a change
	last    int64  // start of the latest request, Unix ns
	seq     int32
}

func newSessionizer(key SessionKey, gap time.Duration, scrub *Scrubber) *sessionizer {
	if gap <= 0 {
		gap = DefaultIdleGap
	}
	return &sessionizer{key: key, gap: gap, scrub: scrub, live: map[uint64]liveSession{}, seed: maphash.MakeSeed()}
}

// assign sets h's Session, User and Seq.
func (s *sessionizer) assign(h *Hit) {
	e := &h.Exchange
	kind, a, b := s.rawKey(h)
	k := s.keyHash(kind, a, b)
	now := e.Time.UnixNano()
	ls, ok := s.live[k]
	// A source's own session id is never split; other keys split after the
	// idle gap.
	if !ok || (h.SessionID == "" && now-ls.last > int64(s.gap)) {
		id := kind + ":" + a + "\x00" + b
		if h.SessionID == "" {
			// The start time makes the id unique even when a forgotten
			// session's key comes back later.
			id += "@" + strconv.FormatInt(now, 10)
		}
		ls = liveSession{id: s.scrub.Hash("s", id), last: now}
		s.started++
	}
	if h.UserID != "" {
		// A session's user rarely changes: hash once per change.
		if uk := maphash.String(s.seed, h.UserID); uk != ls.userKey || ls.user == "" {
			ls.userKey, ls.user = uk, s.scrub.Hash("u", h.UserID)
		}
		e.User = ls.user
	}
	e.Session, e.Seq = ls.id, ls.seq
	ls.seq++
	ls.last = max(ls.last, now)
	s.live[k] = ls
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
	return hash3(s.seed, kind, a, b)
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
	for k, ls := range s.live {
		if now.UnixNano()-ls.last > int64(s.gap) {
			delete(s.live, k)
		}
	}
	s.lastSweep = now
}
