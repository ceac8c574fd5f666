package capture

import (
	"encoding/json"
	"strings"
)

// redactedBody replaces an invalid JSON body that scrubbing would have made
// valid (the fault was inside a secret): it stays invalid, as recorded.
const redactedBody = "{{redacted: invalid JSON body with a secret}}"

// scrubJSON scrubs a JSON body, splicing replacements into the original
// bytes: key order, spacing and escaping of everything else stay byte for
// byte. Values of secret names (strings, numbers, and the items of arrays
// under such a name) become placeholder strings, of user names user-hash
// strings; every other string value gets Text and every number that is a
// card number a placeholder. An invalid body (cut short, say) gets Text as a
// whole; it is never made valid. The output is valid JSON iff b is.
func (s *Scrubber) scrubJSON(b []byte) []byte {
	if !json.Valid(b) {
		str := string(b)
		out := s.Text(str)
		if out == str {
			return b
		}
		if json.Valid([]byte(out)) {
			return []byte(redactedBody)
		}
		return []byte(out)
	}
	type frame struct {
		obj, wantKey bool
		kind         nameKind // of the current member (object) or of the array
	}
	var (
		stack []frame
		out   []byte
		last  int
	)
	kind := func() nameKind {
		if len(stack) == 0 {
			return plainName
		}
		return stack[len(stack)-1].kind
	}
	splice := func(start, end int, repl string) {
		out = append(out, b[last:start]...)
		out = append(out, repl...)
		last = end
	}
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '{':
			stack = append(stack, frame{obj: true, wantKey: true})
			i++
		case c == '[':
			stack = append(stack, frame{kind: kind()})
			i++
		case c == '}' || c == ']':
			stack = stack[:len(stack)-1]
			i++
		case c == ',':
			if top := &stack[len(stack)-1]; top.obj {
				top.wantKey = true
			}
			i++
		case c == '"':
			end, escaped := jsonStringEnd(b, i)
			if top := len(stack) - 1; top >= 0 && stack[top].obj && stack[top].wantKey {
				stack[top].wantKey = false
				stack[top].kind = s.names.param(rawJSONString(b[i:end], escaped))
			} else if repl, ok := s.jsonValue(kind(), rawJSONString(b[i:end], escaped), escaped); ok {
				splice(i, end, repl)
			}
			i = end
		case c == '-' || c >= '0' && c <= '9':
			end := i + 1
			for end < len(b) && strings.IndexByte("0123456789.eE+-", b[end]) >= 0 {
				end++
			}
			num := string(b[i:end])
			switch k := kind(); {
			case k == secretName || k == cookieName:
				s.Fields++
				splice(i, end, `"`+s.Placeholder(num)+`"`)
			case k == userName:
				splice(i, end, `"`+s.valueOf(userName, num)+`"`)
			case cardAt(num, 0) == len(num):
				s.Values++
				splice(i, end, `"`+s.Placeholder(num)+`"`)
			}
			i = end
		default: // white space, ':', true, false, null
			i++
		}
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// jsonValue returns the replacement (quoted) of a string value of a member
// or array of kind k, or false to keep it.
func (s *Scrubber) jsonValue(k nameKind, v string, escaped bool) (string, bool) {
	if v == "" || strings.HasPrefix(v, PlaceholderPrefix) {
		return "", false
	}
	switch k {
	case secretName, cookieName:
		s.Fields++
		return `"` + s.Placeholder(v) + `"`, true
	case userName:
		if isKeyedHash(v) {
			return "", false
		}
		return `"` + s.valueOf(userName, v) + `"`, true
	}
	r := s.Text(v)
	if r == v {
		return "", false
	}
	if !escaped {
		return `"` + r + `"`, true // untouched parts are the raw bytes
	}
	return quoteJSON(r), true
}

// jsonStringEnd returns the end (past the closing quote) of the valid JSON
// string starting at b[i], and whether it has escapes.
func jsonStringEnd(b []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return len(b), escaped
}

// jsonString decodes a valid quoted JSON string.
func rawJSONString(q []byte, escaped bool) string {
	if !escaped {
		return string(q[1 : len(q)-1])
	}
	var v string
	if json.Unmarshal(q, &v) != nil {
		return string(q[1 : len(q)-1])
	}
	return v
}

// quoteJSON quotes v as a JSON string escaping only what JSON requires
// (quote, backslash, control characters), unlike encoding/json which also
// escapes <, > and &.
func quoteJSON(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
