package capture

import (
	"errors"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Text scrubs free text that may quote a record (a skip reason, an error
// message): every "name=value", "name: value" or "name":"value" whose name is
// a secret name gets a placeholder (a cookie list each of its values), a user
// name's value a user hash, and then every detected secret
// (findSecret) a placeholder. Quoted values may be cut short (an excerpt):
// what is left of them is replaced all the same. A secret behind one or
// two layers of escaping (nginx's \x22 quotes in an excerpt, a redirect
// URL's percent-encoded query: next=%2Fcb%3Ftoken%3D...) is found in the
// decoded text; then the decoded text, scrubbed, is what Text returns.
func (s *Scrubber) Text(t string) string {
	t = s.replaceSecrets(s.textNames(t))
	if clean, ok := s.layer(t); ok {
		return clean
	}
	return t
}

// layer decodes the escapes of t that can hide a name's delimiter or a
// value's quotes (escapedDelims) and scrubs the result, up to two layers
// deep. ok is false when t has no such escape or the decoded text holds
// nothing more to replace.
func (s *Scrubber) layer(t string) (clean string, ok bool) {
	for range 2 {
		if !escapedDelims(t) {
			return "", false
		}
		dec := decodeLayer(t)
		if dec == t || !utf8.ValidString(dec) {
			return "", false
		}
		if clean = s.replaceSecrets(s.textNames(dec)); clean != dec {
			return clean, true
		}
		t = dec
	}
	return "", false
}

// escapedDelims reports whether t holds an escaped '=', ':', '"', '&' or
// '%' (percent-encoded, or as nginx's \xNN or JSON's \u00NN): what can
// hide a secret's name and value from textNames.
func escapedDelims(t string) bool {
	p, b := strings.IndexByte(t, '%'), strings.IndexByte(t, '\\')
	if p < 0 && b < 0 {
		return false // most values: two vectorized scans
	}
	if p < 0 || b >= 0 && b < p {
		p = b
	}
	for i := p; i < len(t); i++ {
		var hex string
		switch {
		case t[i] == '%' && i+2 < len(t):
			hex = t[i+1 : i+3]
		case t[i] == '\\' && i+3 < len(t) && t[i+1] == 'x':
			hex = t[i+2 : i+4]
		case t[i] == '\\' && i+5 < len(t) && t[i+1] == 'u' && t[i+2] == '0' && t[i+3] == '0':
			hex = t[i+4 : i+6]
		default:
			continue
		}
		switch strings.ToUpper(hex) {
		case "3D", "3A", "22", "26", "25":
			return true
		}
	}
	return false
}

// decodeLayer undoes one layer of %XX, \xXX and \u00XX escapes in t,
// leaving malformed ones as they are.
func decodeLayer(t string) string {
	var b strings.Builder
	b.Grow(len(t))
	for i := 0; i < len(t); i++ {
		c := t[i]
		var n int // length of the escape
		switch {
		case c == '%':
			n = 3
		case c == '\\' && i+1 < len(t) && t[i+1] == 'x':
			n = 4
		case c == '\\' && i+3 < len(t) && t[i+1] == 'u' && t[i+2] == '0' && t[i+3] == '0':
			n = 6
		}
		if n > 0 && i+n <= len(t) {
			hi, ok1 := hexDigit(t[i+n-2])
			lo, ok2 := hexDigit(t[i+n-1])
			if ok1 && ok2 {
				b.WriteByte(hi<<4 | lo)
				i += n - 1
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isNameByte(c byte) bool { return isWordByte(c) || c == '-' || c == '.' }

func (s *Scrubber) textNames(t string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(t); {
		if !isNameByte(t[i]) {
			i++
			continue
		}
		j := i
		for j < len(t) && isNameByte(t[j]) {
			j++
		}
		k := skipKeyEnd(t, j)
		if k >= len(t) || (t[k] != '=' && t[k] != ':') {
			i = j
			continue
		}
		kind := s.names.param(t[i:j])
		if kind == plainName {
			i = j
			continue
		}
		vs, ve := valueSpan(t, skipSpaces(t, k+1), kind == cookieName)
		if vs >= 0 && kind == secretName {
			// "Authorization: Bearer xyz": the credential is the next word.
			if isAuthScheme(t[vs:ve]) && ve < len(t) && t[ve] == ' ' {
				vs, ve = valueSpan(t, ve+1, false)
			}
		}
		if vs < 0 || vs == ve || strings.HasPrefix(t[vs:], PlaceholderPrefix) {
			i = j
			continue
		}
		b.WriteString(t[last:vs])
		b.WriteString(s.valueOf(kind, t[vs:ve]))
		last, i = ve, ve
	}
	if last == 0 {
		return t
	}
	b.WriteString(t[last:])
	return b.String()
}

// valueOf is the replacement of a named value.
func (s *Scrubber) valueOf(kind nameKind, v string) string {
	switch kind {
	case userName:
		if isKeyedHash(v) {
			return v
		}
		if un, err := url.QueryUnescape(v); err == nil {
			v = un
		}
		s.Users++
		return s.Hash("u", v)
	case cookieName:
		s.Headers++
		return s.cookies(v, "; ")
	}
	s.Fields++
	return s.replace(v)
}

// isKeyedHash reports whether v is already a user or session hash.
func isKeyedHash(v string) bool {
	if len(v) != 18 || v[1] != '_' || (v[0] != 'u' && v[0] != 's') {
		return false
	}
	for i := 2; i < len(v); i++ {
		if !(v[i] >= '0' && v[i] <= '9' || v[i] >= 'a' && v[i] <= 'f') {
			return false
		}
	}
	return true
}

// skipKeyEnd skips the closing quote of a quoted key (`"`, `\"` or `'`) and
// spaces.
func skipKeyEnd(t string, j int) int {
	switch {
	case j < len(t) && (t[j] == '"' || t[j] == '\''):
		j++
	case j+1 < len(t) && t[j] == '\\' && t[j+1] == '"':
		j += 2
	}
	return skipSpaces(t, j)
}

func skipSpaces(t string, j int) int {
	for j < len(t) && (t[j] == ' ' || t[j] == '\t') {
		j++
	}
	return j
}

// valueSpan returns the value starting at t[k]: the inside of a quoted value
// (`"…"`, `\"…\"` or `'…'`, to the end of t if cut), or an unquoted run up to
// a delimiter (to the end of the line for a cookie list).
func valueSpan(t string, k int, toEOL bool) (int, int) {
	if k >= len(t) {
		return -1, -1
	}
	var quote string
	switch {
	case t[k] == '"':
		quote = `"`
	case t[k] == '\'':
		quote = `'`
	case strings.HasPrefix(t[k:], `\"`):
		quote = `\"`
	}
	if quote != "" {
		vs := k + len(quote)
		for j := vs; j < len(t); j++ {
			if strings.HasPrefix(t[j:], quote) {
				return vs, j
			}
			if t[j] == '\\' && quote != `\"` {
				j++
			}
		}
		return vs, len(t)
	}
	j := k
	for ; j < len(t); j++ {
		c := t[j]
		if c == '\n' || c == '\r' || c == '"' || c == '\\' && j+1 < len(t) && t[j+1] == '"' {
			break
		}
		if !toEOL && strings.IndexByte(" \t&;,'<>()[]{}", c) >= 0 {
			break
		}
	}
	return k, j
}

// scrubbedError is an error whose message has been scrubbed; it unwraps to
// the original so errors.Is and errors.As still work.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubError makes err safe to print or store: a RecordError's reason and
// field are scrubbed in place; any other error's message is scrubbed.
// Every error a decoder returns goes through here before it leaves capture,
// so no decoder can leak what it quotes.
func (s *Scrubber) scrubError(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	var re *RecordError
	if errors.As(err, &re) {
		re.Reason, re.Field = s.Text(re.Reason), s.Text(re.Field)
	}
	msg := err.Error()
	if clean := s.Text(msg); clean != msg {
		return &scrubbedError{clean, err}
	}
	return err
}
