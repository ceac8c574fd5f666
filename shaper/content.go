package shaper

import (
	"fmt"
	"regexp"

	"github.com/surge-replay/surge/schema"
)

// ContentRule extracts a content id from a recorded request: Pattern is
// matched against the path, and against "path?query" when the request has
// a query, and the id is its group named "id" (`/live/(?P<id>[^/]+)/`).
type ContentRule struct {
	Pattern *regexp.Regexp
	group   int // index of the "id" group; 0 until checked
}

// NewContentRule compiles pattern, which must have a group named "id".
func NewContentRule(pattern string) (*ContentRule, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("content pattern %q: %v", pattern, err)
	}
	g := re.SubexpIndex("id")
	if g < 0 {
		return nil, fmt.Errorf("content pattern %q: no group named id; write (?P<id>...) around the id", pattern)
	}
	return &ContentRule{Pattern: re, group: g}, nil
}

// Extract returns the content id of e, or "" when the pattern does not
// match.
func (c *ContentRule) Extract(e *schema.Exchange) string {
	_, id := c.locate(e)
	return id
}

// locate returns the id and where it is: in the path (query false) or in
// the query (the match ran on "path?query"); id "" when none.
func (c *ContentRule) locate(e *schema.Exchange) (loc []int, id string) {
	g := c.group
	if g == 0 {
		g = c.Pattern.SubexpIndex("id")
		if g < 0 {
			return nil, ""
		}
	}
	target := e.Path
	if e.Query != "" {
		target = e.Path + "?" + e.Query
	}
	m := c.Pattern.FindStringSubmatchIndex(target)
	if m == nil || m[2*g] < 0 {
		return nil, ""
	}
	return m[2*g : 2*g+2], target[m[2*g]:m[2*g+1]]
}

// String returns the pattern.
func (c *ContentRule) String() string { return c.Pattern.String() }
