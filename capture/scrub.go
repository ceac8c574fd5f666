package capture

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"hash/maphash"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/surge-replay/surge/schema"
)

// PlaceholderPrefix starts every placeholder that replaces a secret: a
// placeholder is "{{secret:" + 16 hex digits of the keyed hash of the secret +
// "}}". The same secret always gives the same placeholder (under one key), so a
// replay can map each recorded credential to a test credential.
const PlaceholderPrefix = "{{secret:"

// ScrubConfig says what to scrub. The zero value scrubs the default lists.
type ScrubConfig struct {
	// Key is the HMAC key for user ids, session ids and placeholders. It must
	// be set: without a key, hashes of guessable ids could be reversed.
	Key []byte
	// Headers, Query and Fields are scrubbed in addition to the defaults:
	// header names, query parameter names, and JSON or form body field names
	// (Query and Fields apply to query, form and JSON alike). Names compare
	// case-insensitively.
	Headers, Query, Fields []string
	// Users are more query parameter, body field or header names whose
	// values are user ids, hashed like the user key (DefaultUserNames are
	// always).
	Users []string
}

// Scrubber replaces secrets and personal ids by keyed hashes: values of
// secret names (nameRules), secrets found by their form (findSecret) and user
// ids. It caches recent results (ids and tokens repeat across a session's
// requests). A Scrubber is not safe for concurrent use.
type Scrubber struct {
	mac   hash.Hash
	names *nameRules
	cache map[uint64]string   // keyed by maphash of namespace and id
	clean map[string]struct{} // header values Text leaves as they are (user agents repeat)
	// recent are clean header values seen last, compared before the clean
	// map is hashed: a decoder that shares one copy of each user agent
	// (internUA) makes that a pointer comparison.
	recent     [16]string
	recentNext int
	seed       maphash.Seed
	sum        []byte

	// Counts of values replaced, for the import report: named secrets in
	// headers, query and body fields, user ids, and secrets detected by
	// their form.
	Headers, Query, Fields, Users, Values int64
}

// cacheLimit bounds the Scrubber's cache; it is cleared when full.
const cacheLimit = 1 << 16

// cleanLimit bounds the Scrubber's set of clean header values (cleared
// when full), and maxCleanValue the length of a value it keeps.
const (
	cleanLimit    = 4096
	maxCleanValue = 512
)

// NewScrubber returns a Scrubber for c.
func NewScrubber(c ScrubConfig) *Scrubber {
	return &Scrubber{
		mac:   hmac.New(sha256.New, c.Key),
		names: newNameRules(c),
		cache: map[uint64]string{},
		clean: map[string]struct{}{},
		seed:  maphash.MakeSeed(),
	}
}

// Hash returns the keyed hash of an id in a namespace ("u" for users, "s" for
// sessions): the namespace, an underscore and 16 hex digits.
func (s *Scrubber) Hash(namespace, id string) string {
	ck := hash3(s.seed, namespace, id, "")
	if h, ok := s.cache[ck]; ok {
		return h
	}
	s.mac.Reset()
	s.mac.Write([]byte(namespace + "\x00" + id))
	s.sum = s.mac.Sum(s.sum[:0])
	h := namespace + "_" + hex.EncodeToString(s.sum[:8])
	if len(s.cache) >= cacheLimit {
		clear(s.cache)
	}
	s.cache[ck] = h
	return h
}

// Placeholder returns the placeholder of a secret value.
func (s *Scrubber) Placeholder(secret string) string {
	return "{{secret:" + s.Hash("p", secret)[2:] + "}}"
}

// replace returns the placeholder of v, or v when it already is one.
func (s *Scrubber) replace(v string) string {
	if strings.HasPrefix(v, PlaceholderPrefix) {
		return v
	}
	return s.Placeholder(v)
}

// Exchange scrubs e in place: secret and user-id headers, query
// parameters, path segments and body fields, and secrets found by their form
// anywhere in them.
func (s *Scrubber) Exchange(e *schema.Exchange) {
	for i := range e.Headers {
		s.header(&e.Headers[i])
	}
	if e.Query != "" {
		e.Query = s.query1(e.Query)
	}
	if e.Path != "" {
		e.Path = s.path(e.Path)
	}
	if len(e.Body) > 0 {
		// A scrubbed body is what a replay sends: its size changes by what
		// the replacements add (a truncated body keeps its recorded rest).
		n := len(e.Body)
		e.Body = s.body(e.Body)
		e.BodySize += int64(len(e.Body) - n)
	}
}

func (s *Scrubber) header(h *schema.Header) {
	if h.Value == "" {
		return
	}
	switch s.names.header(h.Name) {
	case cookieName:
		s.Headers++
		if strings.EqualFold(h.Name, "Set-Cookie") {
			h.Value = s.setCookie(h.Value)
		} else {
			h.Value = s.cookies(h.Value, "; ")
		}
	case secretName:
		s.Headers++
		// Keep an auth scheme ("Bearer", "Basic") so the replay knows
		// what kind of credential to put back.
		if scheme, cred, ok := strings.Cut(h.Value, " "); ok && isAuthScheme(scheme) {
			h.Value = scheme + " " + s.replace(cred)
		} else {
			h.Value = s.replace(h.Value)
		}
	case userName:
		if !isKeyedHash(h.Value) {
			s.Users++
			h.Value = s.Hash("u", h.Value)
		}
	default:
		// A Referer's query, a "Bearer" in a custom header, a token in
		// a value of its own. Values found clean before (the same user
		// agents, over and over) are not scanned again.
		if s.recentlyClean(h.Value) {
			return
		}
		if _, ok := s.clean[h.Value]; ok {
			s.noteClean(h.Value)
			return
		}
		v := s.Text(h.Value)
		if v == h.Value && len(v) <= maxCleanValue {
			if len(s.clean) >= cleanLimit {
				clear(s.clean)
			}
			s.clean[strings.Clone(v)] = struct{}{} // v may hold a whole line
		}
		h.Value = v
	}
}

// recentlyClean reports whether v is one of the recent clean values.
func (s *Scrubber) recentlyClean(v string) bool {
	for i := range s.recent {
		if s.recent[i] == v { // equal data pointers compare without reading the bytes
			return true
		}
	}
	return false
}

// noteClean makes v, a clean header value, one of the recent ones.
func (s *Scrubber) noteClean(v string) {
	s.recent[s.recentNext] = v
	s.recentNext = (s.recentNext + 1) % len(s.recent)
}

// path replaces detected secrets in path segments, and named ones in
// matrix parameters (";jsessionid=...").
func (s *Scrubber) path(p string) string {
	if strings.IndexByte(p, ';') >= 0 {
		p = s.textNames(p)
	}
	return s.replaceSecrets(p)
}

// cookies replaces the value of every cookie in a Cookie header, keeping the
// names, except the preference cookies of DefaultPlainCookies (lang=en),
// which keep their values unless a value detector finds a secret there.
func (s *Scrubber) cookies(v, sep string) string {
	parts := strings.Split(v, ";")
	for i, p := range parts {
		name, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		switch {
		case ok && plainCookie(name):
			parts[i] = name + "=" + s.replaceSecrets(val)
		case ok:
			parts[i] = name + "=" + s.replace(val)
		default:
			parts[i] = s.replace(strings.TrimSpace(p))
		}
	}
	return strings.Join(parts, sep)
}

// setCookie replaces the value of a Set-Cookie header, keeping its name and
// attributes.
func (s *Scrubber) setCookie(v string) string {
	first, attrs, _ := strings.Cut(v, ";")
	name, val, ok := strings.Cut(first, "=")
	if !ok {
		return s.replace(v)
	}
	out := name + "=" + s.replace(val)
	if attrs != "" {
		out += ";" + attrs
	}
	return out
}

// query1 replaces secret and user-id parameter values and detected
// secrets in a raw query (or form body), keeping the rest of it byte for
// byte. A query with nothing to replace is returned without allocating.
func (s *Scrubber) query1(q string) string {
	var b strings.Builder
	last := 0
	for off := 0; off < len(q); {
		p := q[off:]
		if i := strings.IndexByte(p, '&'); i >= 0 {
			p = p[:i]
		}
		name, val, ok := strings.Cut(p, "=")
		vs := off + len(name) + 1
		off += len(p) + 1
		if !ok || val == "" {
			continue
		}
		if strings.IndexByte(name, '%') >= 0 || strings.IndexByte(name, '+') >= 0 {
			if un, err := url.QueryUnescape(name); err == nil {
				name = un
			}
		}
		var repl string
		switch s.names.param(name) {
		case secretName, cookieName:
			if strings.HasPrefix(val, PlaceholderPrefix) {
				continue
			}
			s.Query++
			repl = s.Placeholder(val)
		case userName:
			if isKeyedHash(val) {
				continue
			}
			repl = s.valueOf(userName, val)
		default:
			if strings.IndexByte(val, '=') >= 0 {
				// A URL with its own query, unencoded (next=/cb?token=x):
				// its names count too.
				repl = s.replaceSecrets(s.textNames(val))
			} else {
				repl = s.replaceSecrets(val)
			}
			if clean, ok := s.layer(repl); ok {
				// A nested, encoded query (a redirect URL) held a
				// secret: the value stays one encoded value.
				repl = url.QueryEscape(clean)
			}
			if repl == val {
				continue
			}
		}
		b.WriteString(q[last:vs])
		b.WriteString(repl)
		last = vs + len(val)
	}
	if last == 0 {
		return q
	}
	b.WriteString(q[last:])
	return b.String()
}

// body replaces secret and user-id fields of a JSON or form body and
// detected secrets in them, changing only the replaced values' bytes
// (scrubJSON). Other text bodies get Text; binary ones are kept.
func (s *Scrubber) body(b []byte) []byte {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return s.scrubJSON(b)
	}
	if !utf8.Valid(b) {
		return b
	}
	str := string(b)
	var out string
	if bytes.IndexByte(b, '=') > 0 && !bytes.ContainsAny(b, " \n{<") {
		out = s.query1(str)
	} else {
		out = s.Text(str)
	}
	if out == str {
		return b
	}
	return []byte(out)
}

func isAuthScheme(s string) bool {
	switch strings.ToLower(s) {
	case "bearer", "basic", "digest", "token", "negotiate", "apikey":
		return true
	}
	return false
}
