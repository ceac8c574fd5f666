package capture

import (
	"strings"
	"testing"
)

func TestFindSecret(t *testing.T) {
	tests := []struct {
		name, in, want string // want: the secret found, "" for none
	}{
		// A JWT: header decodes to JSON with "alg".
		{"jwt", "t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln&x", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"},
		// Three base64url parts whose header has no "alg" are not a JWT.
		{"not jwt", "eyJmb28iOiJiYXIifQ.eyJzdWIiOiIxIn0.c2ln", ""},
		// Bearer in any header: the credential, scheme kept.
		{"bearer", "X-Upstream: Bearer abc.DEF-123", "abc.DEF-123"},
		// AWS access key ids.
		{"akia", "id AKIAIOSFODNN7EXAMPLE end", "AKIAIOSFODNN7EXAMPLE"},
		{"asia", "ASIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE"},
		// A key id one character short is not one.
		{"akia short", "AKIAIOSFODNN7EXAMPL", ""},
		// GitHub tokens.
		{"ghp", "/x/ghp_" + strings.Repeat("a1", 18) + "/y", "ghp_" + strings.Repeat("a1", 18)},
		{"github_pat", "github_pat_11ABCDEFG0123456789_abcdefghijkl", "github_pat_11ABCDEFG0123456789_abcdefghijkl"},
		// Slack, Google, Stripe.
		{"slack", "xoxb-1234567890-abcdef", "xoxb-1234567890-abcdef"},
		{"google", "key=AIza" + strings.Repeat("Sy", 17) + "_", "AIza" + strings.Repeat("Sy", 17) + "_"},
		{"stripe", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"},
		// A private key block, and one cut short (the rest is key).
		{"pem", "a -----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY----- b", "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----"},
		{"pem cut", "-----BEGIN PRIVATE KEY-----\nMIIB", "-----BEGIN PRIVATE KEY-----\nMIIB"},
		// A public key is not a secret.
		{"public key", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", ""},
		// Card numbers passing Luhn, plain, spaced, dashed.
		{"card", "card=4111111111111111&x", "4111111111111111"},
		{"card spaced", "4111 1111 1111 1111", "4111 1111 1111 1111"},
		{"card dashed", "5500-0000-0000-0004.", "5500-0000-0000-0004"},
		// Failing Luhn, too long, inside a word, or an epoch in ms: none.
		{"luhn fails", "4111111111111112", ""},
		{"too long", "41111111111111111111", ""},
		{"in word", "id4111111111111111", ""},
		{"epoch ms", "_=1763754300000", ""},
		// Placeholders and ordinary text are left alone.
		{"placeholder", "{{secret:4111111111111111}}", ""},
		{"user agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36", ""},
	}
	for _, tt := range tests {
		st, en := findSecret(tt.in, 0)
		got := ""
		if st >= 0 {
			got = tt.in[st:en]
		}
		if got != tt.want {
			t.Errorf("%s: findSecret(%q) = %q; want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestScrubText(t *testing.T) {
	s := NewScrubber(ScrubConfig{Key: key})
	ph, u := s.Placeholder, func(v string) string { return s.Hash("u", v) }
	tests := []struct {
		name, in, want string
	}{
		// A skip reason quoting a request line: named secrets and users.
		{"request line", `malformed request line: "GET /a?access_token=t1&Private_Token=t2&user=ann HTTP/1.1"`,
			`malformed request line: "GET /a?access_token=` + ph("t1") + `&Private_Token=` + ph("t2") + `&user=` + u("ann") + ` HTTP/1.1"`},
		// An excerpt cut short inside the value: what is left is replaced.
		{"cut", `not a path: "/x?token=abcdef"...`, `not a path: "/x?token=` + ph("abcdef") + `"...`},
		// Go-quoted JSON and headers.
		{"quoted json", `"{\"password\":\"pw1\",\"n\":1}"`, `"{\"password\":\"` + ph("pw1") + `\",\"n\":1}"`},
		{"header", "Authorization: Bearer tok9 x", "Authorization: Bearer " + ph("tok9") + " x"},
		{"cookie", `"Cookie: sid=a1; theme=dark"`, `"Cookie: sid=` + ph("a1") + `; theme=dark"`}, // theme is a preference cookie
		// A detected value whatever its name.
		{"detected", "id AKIAIOSFODNN7EXAMPLE", "id " + ph("AKIAIOSFODNN7EXAMPLE")},
		// Text without secrets is returned as it is.
		{"plain", `not an HTTP status: "abc"`, `not an HTTP status: "abc"`},
	}
	for _, tt := range tests {
		if got := s.Text(tt.in); got != tt.want {
			t.Errorf("%s: Text(%q)\n = %q\nwant %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestScrubBodyBytes(t *testing.T) {
	s := NewScrubber(ScrubConfig{Key: key})
	ph, u := s.Placeholder, func(v string) string { return s.Hash("u", v) }
	tests := []struct {
		name, in, want string
	}{
		// Key order, spacing and escaping of the rest stay byte for byte.
		{"order and escapes", `{ "z": "<a&b>", "password" : "pw", "a": [1, 2] }`, `{ "z": "<a&b>", "password" : "` + ph("pw") + `", "a": [1, 2] }`},
		// Depth, arrays under a secret name, numbers, user ids.
		{"depth", `{"a":{"b":[{"Client_Secret":"cs"}]},"tokens":["t1","t2"],"pin":1234,"user_id":42}`,
			`{"a":{"b":[{"Client_Secret":"` + ph("cs") + `"}]},"tokens":["` + ph("t1") + `","` + ph("t2") + `"],"pin":1234,"user_id":"` + u("42") + `"}`},
		// A detected value in a string of no secret name, escapes elsewhere kept.
		{"detected", `{"note":"key AKIAIOSFODNN7EXAMPLE","e":"\u00e9\/"}`, `{"note":"key ` + ph("AKIAIOSFODNN7EXAMPLE") + `","e":"\u00e9\/"}`},
		// A card number as a JSON number.
		{"card number", `{"n":4111111111111111}`, `{"n":"` + ph("4111111111111111") + `"}`},
		// Form bodies keep their bytes.
		{"form", `a=%3C1%3E&password=pw&email=ann%40x.example`, `a=%3C1%3E&password=` + ph("pw") + `&email=` + u("ann@x.example")},
		// A JSON body cut short is scrubbed as text and stays invalid.
		{"cut json", `{"n":1,"password":"pw`, `{"n":1,"password":"` + ph("pw")},
		// Nothing to replace: the same bytes.
		{"untouched", `{"b": "x",  "a":1}`, `{"b": "x",  "a":1}`},
	}
	for _, tt := range tests {
		if got := string(s.body([]byte(tt.in))); got != tt.want {
			t.Errorf("%s: body(%s)\n = %s\nwant %s", tt.name, tt.in, got, tt.want)
		}
	}
}
