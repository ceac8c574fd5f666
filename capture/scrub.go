package capture

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"hash/maphash"
	"net/url"
	"slices"
	"strings"

	"github.com/surge-replay/surge/schema"
)

// Default scrub lists. Header names compare case-insensitively; query and
// body field names exactly.
var (
	DefaultSecretHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "X-Auth-Token", "X-Csrf-Token"}
	DefaultSecretQuery   = []string{"token", "access_token", "id_token", "api_key", "apikey", "key", "sig", "signature", "password", "auth"}
	DefaultSecretFields  = []string{"password", "passwd", "token", "access_token", "refresh_token", "secret", "client_secret"}
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
	// header names, query parameter names, and JSON or form body field names.
	Headers, Query, Fields []string
}

// Scrubber replaces secrets and personal ids by keyed hashes. It caches
// recent results (ids and tokens repeat across a session's requests). A
// Scrubber is not safe for concurrent use.
type Scrubber struct {
	mac     hash.Hash
	headers []string // lower case
	query   map[string]bool
	fields  map[string]bool
	cache   map[uint64]string // keyed by maphash of namespace and id
	seed    maphash.Seed
	sum     []byte

	// Counts of values replaced, for the import report.
	Headers, Query, Fields int64
}

// cacheLimit bounds the Scrubber's cache; it is cleared when full.
const cacheLimit = 1 << 16

// NewScrubber returns a Scrubber for c.
func NewScrubber(c ScrubConfig) *Scrubber {
	s := &Scrubber{
		mac:    hmac.New(sha256.New, c.Key),
		query:  map[string]bool{},
		fields: map[string]bool{},
		cache:  map[uint64]string{},
		seed:   maphash.MakeSeed(),
	}
	for _, h := range slices.Concat(DefaultSecretHeaders, c.Headers) {
		s.headers = append(s.headers, strings.ToLower(h))
	}
	for _, q := range slices.Concat(DefaultSecretQuery, c.Query) {
		s.query[q] = true
	}
	for _, f := range slices.Concat(DefaultSecretFields, c.Fields) {
		s.fields[f] = true
	}
	return s
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

// Exchange scrubs e's secret headers, query parameters and body fields in
// place.
func (s *Scrubber) Exchange(e *schema.Exchange) {
	for i := range e.Headers {
		h := &e.Headers[i]
		if !s.secretHeader(h.Name) || h.Value == "" {
			continue
		}
		s.Headers++
		switch {
		case strings.EqualFold(h.Name, "Cookie"):
			h.Value = s.cookies(h.Value, "; ")
		case strings.EqualFold(h.Name, "Set-Cookie"):
			h.Value = s.setCookie(h.Value)
		default:
			// Keep an auth scheme ("Bearer", "Basic") so the replay knows
			// what kind of credential to put back.
			if scheme, cred, ok := strings.Cut(h.Value, " "); ok && isAuthScheme(scheme) {
				h.Value = scheme + " " + s.replace(cred)
			} else {
				h.Value = s.replace(h.Value)
			}
		}
	}
	if e.Query != "" {
		e.Query = s.query1(e.Query)
	}
	if len(e.Body) > 0 && !e.BodyTruncated {
		// A scrubbed body is what a replay sends: its size is the new one.
		e.Body = s.body(e.Body)
		e.BodySize = int64(len(e.Body))
	}
}

func (s *Scrubber) secretHeader(name string) bool {
	for _, h := range s.headers {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// cookies replaces the value of every cookie in a Cookie header, keeping the
// names.
func (s *Scrubber) cookies(v, sep string) string {
	parts := strings.Split(v, ";")
	for i, p := range parts {
		name, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok {
			parts[i] = name + "=" + s.replace(val)
		} else {
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

// query1 replaces secret parameter values in a raw query, keeping the rest of
// it byte for byte.
func (s *Scrubber) query1(q string) string {
	if !s.anyQuerySecret(q) {
		return q
	}
	return s.replaceQuery(q)
}

// anyQuerySecret reports whether q has a parameter to scrub, without
// allocating.
func (s *Scrubber) anyQuerySecret(q string) bool {
	for q != "" {
		var p string
		p, q, _ = strings.Cut(q, "&")
		name, _, _ := strings.Cut(p, "=")
		if s.query[name] || strings.IndexByte(name, '%') >= 0 {
			return true
		}
	}
	return false
}

func (s *Scrubber) replaceQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		name, val, ok := strings.Cut(p, "=")
		if un, err := url.QueryUnescape(name); err == nil {
			name = un
		}
		if ok && val != "" && s.query[name] && !strings.HasPrefix(val, PlaceholderPrefix) {
			s.Query++
			parts[i] = p[:len(p)-len(val)] + s.Placeholder(val)
		}
	}
	return strings.Join(parts, "&")
}

// body replaces secret fields of a JSON object or form body. Other bodies are
// kept as they are.
func (s *Scrubber) body(b []byte) []byte {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		var v any
		d := json.NewDecoder(bytes.NewReader(trimmed))
		d.UseNumber()
		if d.Decode(&v) != nil || !s.scrubJSON(v) {
			return b
		}
		out, err := json.Marshal(v)
		if err != nil {
			return b
		}
		return out
	}
	if bytes.IndexByte(b, '=') > 0 && !bytes.ContainsAny(b, " \n{<") {
		return []byte(s.query1(string(b)))
	}
	return b
}

// scrubJSON replaces secret string fields anywhere in v, reporting whether it
// replaced any.
func (s *Scrubber) scrubJSON(v any) bool {
	changed := false
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if str, ok := x.(string); ok && s.fields[k] && str != "" && !strings.HasPrefix(str, PlaceholderPrefix) {
				v[k] = s.Placeholder(str)
				s.Fields++
				changed = true
			} else if s.scrubJSON(x) {
				changed = true
			}
		}
	case []any:
		for _, x := range v {
			if s.scrubJSON(x) {
				changed = true
			}
		}
	}
	return changed
}

func isAuthScheme(s string) bool {
	switch strings.ToLower(s) {
	case "bearer", "basic", "digest", "token", "negotiate", "apikey":
		return true
	}
	return false
}
