package capture

import (
	"encoding/base64"
	"strings"
)

// findSecret returns the first secret value in v at or after from whatever
// its name: a JWT (three base64url parts whose header is JSON with "alg"),
// the credential of "Bearer ...", an AWS access key id (AKIA, ASIA, ABIA,
// ACCA + 16), a GitHub token (ghp_, gho_, ghu_, ghs_, ghr_ + 36,
// github_pat_), a Slack token (xox[abpors]-), a Google API key (AIza + 35),
// a Stripe key (sk_/rk_ + live/test/prod), a PEM private key block, or a
// card number passing the Luhn check (13 to 19 digits, single spaces or
// dashes between). It returns -1, -1 when there is none. Placeholders and
// keyed hashes are skipped.
//
// It is one pass over v that only looks closer at bytes that can start a
// secret, so a value without one costs about a nanosecond a byte.
func findSecret(v string, from int) (start, end int) {
	if len(v)-from < minSecretLen {
		return -1, -1
	}
	prevWord := from > 0 && wordByte[v[from-1]]
	for i := from; i < len(v); i++ {
		c := v[i]
		afterWord := prevWord
		prevWord = wordByte[c]
		if !startByte[c] || afterWord && c != '-' {
			continue
		}
		// What matchAt would refuse at once, refused without the call:
		// most values are paths and queries full of short numbers and
		// dashes.
		switch {
		case c >= '0' && c <= '9':
			if c < '2' || c > '6' || len(v)-i < 13 {
				continue // cardAt: no network's prefix, or too short
			}
		case c == '-':
			if i+1 == len(v) || v[i+1] != '-' {
				continue // pemAt: not "-----BEGIN "
			}
		case c == 'e':
			if i+1 == len(v) || v[i+1] != 'y' {
				continue // jwtAt: not "eyJ" or "eyA"
			}
		}
		if e := matchAt(v, i); e > i {
			if c == 'B' || c == 'b' { // keep the "Bearer " scheme
				return i + len("bearer "), e
			}
			return i, e
		}
		if c == '{' && strings.HasPrefix(v[i:], PlaceholderPrefix) {
			if j := strings.Index(v[i:], "}}"); j > 0 {
				i += j + 1
			}
		}
	}
	return -1, -1
}

// minSecretLen is the length of the shortest secret findSecret finds
// ("Bearer x" is 8 bytes; a card has 13 digits, a JWT at least 14 bytes).
const minSecretLen = len("Bearer x")

// wordByte is isWordByte as a table.
var wordByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = isWordByte(byte(c))
	}
	return t
}()

var startByte = func() (t [256]bool) {
	for _, c := range "eAgxsrBb-{0123456789" {
		t[c] = true
	}
	return t
}()

// matchAt returns the end of a secret starting at v[i], or -1.
func matchAt(v string, i int) int {
	s := v[i:]
	switch s[0] {
	case 'e':
		return jwtAt(v, i)
	case 'A':
		for _, p := range [...]string{"AKIA", "ASIA", "ABIA", "ACCA"} {
			if strings.HasPrefix(s, p) {
				return fixedRun(v, i+4, 16, isUpperDigit)
			}
		}
		if strings.HasPrefix(s, "AIza") {
			return fixedRun(v, i+4, 35, isKeyByte)
		}
	case 'g':
		if len(s) > 4 && s[:2] == "gh" && s[3] == '_' && strings.IndexByte("pousr", s[2]) >= 0 {
			return minRun(v, i+4, 36, isAlnum)
		}
		if strings.HasPrefix(s, "github_pat_") {
			return minRun(v, i+11, 22, isWordByte)
		}
	case 'x':
		if len(s) > 5 && s[:3] == "xox" && strings.IndexByte("abpors", s[3]) >= 0 && s[4] == '-' {
			return minRun(v, i+5, 10, func(c byte) bool { return isAlnum(c) || c == '-' })
		}
	case 's', 'r':
		if len(s) > 8 && s[1] == 'k' && s[2] == '_' {
			for _, env := range [...]string{"live_", "test_", "prod_"} {
				if strings.HasPrefix(s[3:], env) {
					return minRun(v, i+8, 10, isAlnum)
				}
			}
		}
	case 'B', 'b':
		if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
			return minRun(v, i+7, 1, isB64Token)
		}
	case '-':
		return pemAt(v, i)
	default:
		if s[0] >= '0' && s[0] <= '9' {
			return cardAt(v, i)
		}
	}
	return -1
}

// fixedRun: exactly n bytes of class from i, not followed by another.
func fixedRun(v string, i, n int, class func(byte) bool) int {
	e := minRun(v, i, n, class)
	if e != i+n {
		return -1
	}
	return e
}

// minRun: at least n bytes of class from i; returns the run's end.
func minRun(v string, i, n int, class func(byte) bool) int {
	j := i
	for j < len(v) && class(v[j]) {
		j++
	}
	if j-i < n {
		return -1
	}
	return j
}

func jwtAt(v string, i int) int {
	if !strings.HasPrefix(v[i:], "eyJ") && !strings.HasPrefix(v[i:], "eyA") {
		return -1
	}
	e1 := minRun(v, i, 10, isB64URL)
	if e1 < 0 || e1 >= len(v) || v[e1] != '.' {
		return -1
	}
	e2 := minRun(v, e1+1, 2, isB64URL)
	if e2 < 0 || e2 >= len(v) || v[e2] != '.' {
		return -1
	}
	e3 := e2 + 1
	for e3 < len(v) && isB64URL(v[e3]) {
		e3++
	}
	head, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v[i:e1], "="))
	if err != nil || !strings.Contains(string(head), `"alg"`) {
		return -1
	}
	return e3
}

func pemAt(v string, i int) int {
	s := v[i:]
	if !strings.HasPrefix(s, "-----BEGIN ") {
		return -1
	}
	h := strings.Index(s, "-----")
	if nl := strings.Index(s[11:], "-----"); nl < 0 || !strings.HasSuffix(s[:11+nl], "PRIVATE KEY") {
		return -1
	} else {
		h = 11 + nl + 5
	}
	if end := strings.Index(s[h:], "-----END "); end >= 0 {
		if close := strings.Index(s[h+end+9:], "-----"); close >= 0 {
			return i + h + end + 9 + close + 5
		}
	}
	return len(v) // a block cut short: the rest is key material
}

// cardAt matches 13 to 19 digits (single spaces or dashes between) passing
// the Luhn check and starting 2 to 6 (the networks' prefixes), not part of a longer number or word.
func cardAt(v string, i int) int {
	if v[i] < '2' || v[i] > '6' {
		return -1 // no card network's prefix (and not an epoch in ms)
	}
	var digits [19]byte
	n, j, end := 0, i, -1
	for j < len(v) {
		c := v[j]
		if c >= '0' && c <= '9' {
			if n == 19 {
				return -1 // a longer number
			}
			digits[n] = c - '0'
			n++
			j++
			if n >= 13 && (j == len(v) || !isWordByte(v[j])) {
				end = j
			}
			continue
		}
		if (c == ' ' || c == '-') && j+1 < len(v) && v[j+1] >= '0' && v[j+1] <= '9' && j > i {
			j++
			continue
		}
		break
	}
	if j < len(v) && isWordByte(v[j]) || end != j || !luhn(digits[:n]) {
		return -1
	}
	return end
}

func luhn(d []byte) bool {
	sum := 0
	for k := range d {
		x := int(d[len(d)-1-k])
		if k%2 == 1 {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	return sum%10 == 0
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
func isWordByte(c byte) bool   { return isAlnum(c) || c == '_' }
func isUpperDigit(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' }
func isKeyByte(c byte) bool    { return isAlnum(c) || c == '_' || c == '-' }
func isB64URL(c byte) bool     { return isAlnum(c) || c == '_' || c == '-' || c == '=' }
func isB64Token(c byte) bool   { return isAlnum(c) || strings.IndexByte("-._~+/=", c) >= 0 }

// replaceSecrets returns v with every detected secret replaced by its
// placeholder (v itself, without allocating, when there is none).
func (s *Scrubber) replaceSecrets(v string) string {
	st, en := findSecret(v, 0)
	if st < 0 {
		return v
	}
	var b strings.Builder
	last := 0
	for st >= 0 {
		b.WriteString(v[last:st])
		b.WriteString(s.Placeholder(v[st:en]))
		s.Values++
		last = en
		st, en = findSecret(v, en)
	}
	b.WriteString(v[last:])
	return b.String()
}
