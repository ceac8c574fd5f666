package report

import "strings"

// RouteGroup returns the route of a request with its variable parts replaced,
// so requests of one endpoint group together: numbers become {n}, ids
// (UUIDs, long hex or mixed tokens) become {id}, and numbers inside a segment
// (seg-1234.ts) become {n} in place. The query is not part of the route.
//
//	RouteGroup("GET", "/live/final-2026/seg-1234.ts") = "GET /live/final-2026/seg-{n}.ts"
func RouteGroup(method, path string) string {
	var b strings.Builder
	b.Grow(len(method) + 1 + len(path))
	b.WriteString(method)
	b.WriteByte(' ')
	if path == "" {
		b.WriteByte('/')
		return b.String()
	}
	for i, seg := range strings.Split(path, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(groupSegment(seg))
	}
	return b.String()
}

func groupSegment(seg string) string {
	if seg == "" {
		return seg
	}
	digits, hex, letters := 0, 0, 0
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case '0' <= c && c <= '9':
			digits++
			hex++
		case 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
			hex++
			letters++
		case 'g' <= c && c <= 'z', 'G' <= c && c <= 'Z':
			letters++
		}
	}
	switch {
	case digits == len(seg):
		return "{n}"
	case isUUID(seg), len(seg) >= 16 && hex == len(seg), len(seg) >= 24 && digits > 0:
		return "{id}"
	case len(seg) >= 6 && digits > 0 && letters > 0 && digits*2 >= len(seg):
		// Mostly digits with some letters: an id like "u8842k7".
		return "{id}"
	case digits > 0:
		return replaceNumbers(seg)
	}
	return seg
}

// replaceNumbers replaces each run of digits in seg by {n}, but keeps digits
// that are part of a word ("v1", "h264", "final-2026").
func replaceNumbers(seg string) string {
	var b strings.Builder
	for i := 0; i < len(seg); {
		c := seg[i]
		if c < '0' || c > '9' {
			b.WriteByte(c)
			i++
			continue
		}
		j := i
		for j < len(seg) && '0' <= seg[j] && seg[j] <= '9' {
			j++
		}
		// A number glued to letters before it is part of a word.
		glued := i > 0 && isLetter(seg[i-1])
		if glued || (j-i == 4 && i > 0 && seg[i-1] == '-' && j == len(seg)) {
			b.WriteString(seg[i:j])
		} else {
			b.WriteString("{n}")
		}
		i = j
	}
	return b.String()
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
