package shaper

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/surge-replay/surge/schema"
)

// Cond is one condition on a session's first request, written
// "key=value" (equal, or a glob for path and host) or "key~regexp"
// (regular expression, RE2 syntax, unanchored). The keys are:
//
//	path      the request path: a glob where "*" is any run of characters but
//	          "/", "**" any run including "/", "?" one character but "/"
//	          ("/live/**", "/api/*/play")
//	host      the request host, a glob as path
//	method    GET, POST, … (compared without case)
//	region    the recorded region label
//	device    the recorded device label
//	protocol  the recorded protocol (http/1.1, h2, ws)
//	header.N  the value of request header N (name without case; any of its values)
//	query.N   the value of query parameter N (any of its values)
//	content   the content id of the session (see ContentRule), "" when none
//
// A Cond is immutable once parsed and safe for concurrent use.
type Cond struct {
	key   string // as written: "path", "header.X-Client"
	field string // "path", "host", "method", …, "header", "query"
	name  string // header or query parameter name, for header and query
	op    byte   // '=' or '~'
	value string
	re    *regexp.Regexp // for '~', and for '=' globs that are not a prefix
	// prefix is set for a glob of the form "/a/b/**": a HasPrefix test.
	prefix string
	glob   bool // '=' on path or host with glob characters
}

// Match is a conjunction of conditions: every one must hold. The empty Match
// matches every session.
type Match []Cond

// ParseCond parses "key=value" or "key~regexp".
func ParseCond(s string) (Cond, error) {
	i := strings.IndexAny(s, "=~")
	if i <= 0 {
		return Cond{}, fmt.Errorf("condition %q: want key=value or key~regexp (keys: path, host, method, region, device, protocol, header.NAME, query.NAME, content)", s)
	}
	c := Cond{key: strings.TrimSpace(s[:i]), op: s[i], value: s[i+1:]}
	c.field = strings.ToLower(c.key)
	if f, n, ok := strings.Cut(c.key, "."); ok {
		c.field, c.name = strings.ToLower(f), n
	}
	switch c.field {
	case "path", "host", "method", "region", "device", "protocol", "content":
		if c.name != "" {
			return Cond{}, fmt.Errorf("condition %q: %s takes no name after a dot", s, c.field)
		}
	case "header", "query":
		if c.name == "" {
			return Cond{}, fmt.Errorf("condition %q: %s needs a name: %s.NAME", s, c.field, c.field)
		}
	default:
		return Cond{}, fmt.Errorf("condition %q: unknown key %q (keys: path, host, method, region, device, protocol, header.NAME, query.NAME, content)", s, c.key)
	}
	if c.op == '~' {
		re, err := regexp.Compile(c.value)
		if err != nil {
			return Cond{}, fmt.Errorf("condition %q: %v", s, err)
		}
		c.re = re
		return c, nil
	}
	if (c.field == "path" || c.field == "host") && strings.ContainsAny(c.value, "*?") {
		c.glob = true
		if p, ok := strings.CutSuffix(c.value, "**"); ok && !strings.ContainsAny(p, "*?") {
			c.prefix = p
			return c, nil
		}
		re, err := regexp.Compile(globRegexp(c.value))
		if err != nil {
			return Cond{}, fmt.Errorf("condition %q: %v", s, err)
		}
		c.re = re
	}
	return c, nil
}

// globRegexp returns the anchored regular expression of a path glob.
func globRegexp(g string) string {
	var b strings.Builder
	b.WriteByte('^')
	for g != "" {
		i := strings.IndexAny(g, "*?")
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(g))
			break
		}
		b.WriteString(regexp.QuoteMeta(g[:i])) // whole runs: multi-byte characters stay whole
		switch {
		case strings.HasPrefix(g[i:], "**"):
			b.WriteString(".*")
			i++
		case g[i] == '*':
			b.WriteString("[^/]*")
		default:
			b.WriteString("[^/]")
		}
		g = g[i+1:]
	}
	b.WriteByte('$')
	return b.String()
}

// ParseMatch parses conditions, each as ParseCond; it returns every error.
func ParseMatch(conds []string) (Match, error) {
	m := make(Match, 0, len(conds))
	var errs []string
	for _, s := range conds {
		c, err := ParseCond(s)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		m = append(m, c)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return m, nil
}

// String returns the condition as written: "path=/live/**".
func (c Cond) String() string { return c.key + string(c.op) + c.value }

// String returns the conditions joined by " and ", or "*" for none.
func (m Match) String() string {
	if len(m) == 0 {
		return "*"
	}
	s := make([]string, len(m))
	for i, c := range m {
		s[i] = c.String()
	}
	return strings.Join(s, " and ")
}

// Matches reports whether every condition holds for e; content is the
// session's content id ("" when none).
func (m Match) Matches(e *schema.Exchange, content string) bool {
	for i := range m {
		if !m[i].Matches(e, content) {
			return false
		}
	}
	return true
}

// Matches reports whether c holds for e; content is the session's content
// id.
func (c *Cond) Matches(e *schema.Exchange, content string) bool {
	switch c.field {
	case "path":
		return c.test(e.Path)
	case "host":
		return c.test(e.Host)
	case "method":
		if c.op == '=' {
			return strings.EqualFold(e.Method, c.value)
		}
		return c.re.MatchString(e.Method)
	case "region":
		return c.test(e.Region)
	case "device":
		return c.test(e.Device)
	case "protocol":
		return c.test(e.Protocol)
	case "content":
		return c.test(content)
	case "header":
		for _, h := range e.Headers {
			if strings.EqualFold(h.Name, c.name) && c.test(h.Value) {
				return true
			}
		}
		return false
	case "query":
		if e.Query == "" {
			return false
		}
		q, err := url.ParseQuery(e.Query)
		if err != nil && len(q) == 0 {
			return false
		}
		for _, v := range q[c.name] {
			if c.test(v) {
				return true
			}
		}
		return false
	}
	return false
}

// test compares one value.
func (c *Cond) test(v string) bool {
	switch {
	case c.prefix != "":
		return strings.HasPrefix(v, c.prefix)
	case c.re != nil:
		return c.re.MatchString(v)
	}
	return v == c.value
}
