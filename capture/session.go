package capture

import (
	"fmt"
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
// identity: "cookie:NAME", "header:NAME" or "query:NAME". The zero value uses
// the client address and user agent.
type SessionKey struct {
	Kind string // "cookie", "header", "query" or "" (client address + user agent)
	Name string
}

// ParseSessionKey parses "cookie:NAME", "header:NAME" or "query:NAME"; ""
// gives the zero SessionKey.
func ParseSessionKey(s string) (SessionKey, error) {
	if s == "" {
		return SessionKey{}, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return SessionKey{}, fmt.Errorf("session key %q: want cookie:NAME, header:NAME or query:NAME", s)
	}
	switch kind {
	case "cookie", "header", "query":
		return SessionKey{Kind: kind, Name: name}, nil
	}
	return SessionKey{}, fmt.Errorf("session key %q: %q is not cookie, header or query", s, kind)
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
	live      map[string]*liveSession
	lastSweep time.Time
	started   int64 // sessions started
}

type liveSession struct {
	id   string
	last time.Time
	seq  int32
}

func newSessionizer(key SessionKey, gap time.Duration, scrub *Scrubber) *sessionizer {
	if gap <= 0 {
		gap = DefaultIdleGap
	}
	return &sessionizer{key: key, gap: gap, scrub: scrub, live: map[string]*liveSession{}}
}

// assign sets h's Session, User and Seq.
func (s *sessionizer) assign(h *Hit) {
	e := &h.Exchange
	if h.UserID != "" {
		e.User = s.scrub.Hash("u", h.UserID)
	}
	raw := s.rawKey(h)
	now := e.Time
	ls, ok := s.live[raw]
	// A source's own session id is never split; other keys split after the
	// idle gap.
	if !ok || (h.SessionID == "" && now.Sub(ls.last) > s.gap) {
		id := raw
		if h.SessionID == "" {
			// The start time makes the id unique even when a forgotten
			// session's key comes back later.
			id += "@" + strconv.FormatInt(now.UnixNano(), 10)
		}
		ls = &liveSession{id: s.scrub.Hash("s", id), last: now}
		s.live[raw] = ls
		s.started++
	}
	e.Session, e.Seq = ls.id, ls.seq
	ls.seq++
	if now.After(ls.last) {
		ls.last = now
	}
	s.sweep(now)
}

func (s *sessionizer) rawKey(h *Hit) string {
	if h.SessionID != "" {
		return "id:" + h.SessionID
	}
	if v, ok := s.key.find(&h.Exchange); ok {
		return "key:" + v
	}
	ua, _ := h.Exchange.Header("User-Agent")
	return "client:" + h.Client + "\x00" + ua
}

// sweep forgets sessions idle longer than the gap, at most once per gap.
func (s *sessionizer) sweep(now time.Time) {
	if now.Sub(s.lastSweep) < s.gap {
		return
	}
	for k, ls := range s.live {
		if now.Sub(ls.last) > s.gap {
			delete(s.live, k)
		}
	}
	s.lastSweep = now
}
