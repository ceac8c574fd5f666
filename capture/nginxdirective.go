package capture

import (
	"fmt"
	"strings"
)

// nginxFormatString returns the format of an nginx log_format directive
// pasted whole (`log_format main '$remote_addr - …' '"$request" …';`, over
// one line or several): nginx joins the quoted strings after the name (and
// an optional escape=default|json|none parameter) into one format. Text that
// does not start with "log_format" is returned as it is. Quoting follows
// nginx's configuration syntax: '…' or "…", a backslash escapes the next
// character. (Source: nginx.org/en/docs/http/ngx_http_log_module.html#log_format.)
func nginxFormatString(s string) (string, error) {
	t := strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(t, "log_format")
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t' && rest[0] != '\n' && rest[0] != '\r') {
		return s, nil
	}
	bad := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("log_format directive: %s", fmt.Sprintf(format, args...))
	}
	var words []string // unquoted words before the strings: name, escape=
	var b strings.Builder
	quoted := 0
	i := 0
	for i < len(rest) {
		c := rest[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == ';':
			if tail := strings.TrimSpace(rest[i+1:]); tail != "" {
				return bad("text after the closing ';': %q", clip(tail))
			}
			i = len(rest)
			if quoted == 0 {
				return bad("no quoted format string after the name")
			}
			return b.String(), nil
		case c == '\'' || c == '"':
			j := i + 1
			for ; j < len(rest) && rest[j] != c; j++ {
				if rest[j] == '\\' && j+1 < len(rest) {
					j++
					b.WriteByte(rest[j])
					continue
				}
				b.WriteByte(rest[j])
			}
			if j >= len(rest) {
				return bad("a %c-quoted string is not closed", c)
			}
			quoted++
			i = j + 1
		default:
			if quoted > 0 {
				return bad("unquoted text %q between the format's strings", clip(rest[i:]))
			}
			j := i
			for j < len(rest) && !strings.ContainsRune(" \t\r\n;'\"", rune(rest[j])) {
				j++
			}
			words = append(words, rest[i:j])
			i = j
		}
	}
	if len(words) == 0 {
		return bad("no name after log_format")
	}
	if quoted == 0 {
		return bad("no quoted format string after the name")
	}
	return b.String(), nil // the closing ';' left out of the paste
}

// clip shortens s for a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
