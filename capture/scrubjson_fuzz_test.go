package capture

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

var replacedRE = regexp.MustCompile(`\{\{secret:[0-9a-f]{16}\}\}|u_[0-9a-f]{16}|"\{\{secret:[0-9a-f]{16}\}\}"|"u_[0-9a-f]{16}"`)

// FuzzScrubJSON: scrubbing a body keeps it valid JSON iff it was, and
// changes only the replaced values: the bytes between replacements are the
// input's, in order.
func FuzzScrubJSON(f *testing.F) {
	for _, seed := range []string{
		`{"login":{"user":"ann","password":"hunter2"},"n":1}`,
		`{ "z": "<a&b>", "token" : "t", "a": [1, 2e3, -0.5, true, null] }`,
		`[{"client_secret":"x\"y\\z\u00e9"},{"email":"a@b"},{"card":4111111111111111}]`,
		`{"note":"Bearer abc AKIAIOSFODNN7EXAMPLE eyJhbGciOiJIUzI1NiJ9.eyJzIjoxfQ.c2ln"}`,
		`{"password":"cut`, `{"a":"\q","password":"x"}`, `a=1&password=2`, `{}`, `[]`,
	} {
		f.Add([]byte(seed))
	}
	if b, err := os.ReadFile("testdata/har/chrome.har"); err == nil {
		f.Add(b)
	}
	s := NewScrubber(ScrubConfig{Key: key})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 || (in[0] != '{' && in[0] != '[') {
			return
		}
		out := s.scrubJSON(in)
		if json.Valid(out) != json.Valid(in) {
			t.Fatalf("valid(in)=%v valid(out)=%v\n in %q\nout %q", json.Valid(in), json.Valid(out), in, out)
		}
		if string(out) == redactedBody {
			return
		}
		// The pieces of out between replacements appear in in, in order,
		// from its start to its end.
		src := string(in)
		if replacedRE.MatchString(src) {
			return // the input already had placeholders: pieces are ambiguous
		}
		pieces := replacedRE.Split(string(out), -1)
		if !strings.HasPrefix(src, pieces[0]) || !strings.HasSuffix(src, pieces[len(pieces)-1]) {
			t.Fatalf("start or end changed\n in %q\nout %q", in, out)
		}
		at := len(pieces[0])
		for _, p := range pieces[1:] {
			i := strings.Index(src[at:], p)
			if i < 0 {
				t.Fatalf("bytes %q of out are not the input's\n in %q\nout %q", p, in, out)
			}
			at += i + len(p)
		}
	})
}
