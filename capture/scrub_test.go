package capture

import (
	"strings"
	"testing"

	"github.com/surge-replay/surge/schema"
)

func TestScrubExchange(t *testing.T) {
	s := NewScrubber(ScrubConfig{Key: key, Headers: []string{"X-Device-Id"}, Query: []string{"user"}})
	ph := s.Placeholder
	tests := []struct {
		name  string
		in    schema.Exchange
		want  schema.Exchange
		clean []string // secrets that must not appear anywhere in the output
	}{
		// Bearer token: the scheme stays so a replay knows what to put back.
		{"authorization",
			schema.Exchange{Headers: []schema.Header{{Name: "Authorization", Value: "Bearer tok123"}, {Name: "Accept", Value: "*/*"}}},
			schema.Exchange{Headers: []schema.Header{{Name: "Authorization", Value: "Bearer " + ph("tok123")}, {Name: "Accept", Value: "*/*"}}},
			[]string{"tok123"}},
		// Each cookie value is replaced, names kept; preference cookies
		// (theme, lang) keep their values.
		{"cookie",
			schema.Exchange{Headers: []schema.Header{{Name: "cookie", Value: "sid=abc; theme=dark; lang=en; x=y"}}},
			schema.Exchange{Headers: []schema.Header{{Name: "cookie", Value: "sid=" + ph("abc") + "; theme=dark; lang=en; x=" + ph("y")}}},
			[]string{"abc"}},
		// A preference cookie holding a secret-shaped value is still scrubbed.
		{"plain cookie with a key",
			schema.Exchange{Headers: []schema.Header{{Name: "Cookie", Value: "lang=AKIAABCDEFGHIJKLMNOP"}}},
			schema.Exchange{Headers: []schema.Header{{Name: "Cookie", Value: "lang=" + ph("AKIAABCDEFGHIJKLMNOP")}}},
			[]string{"AKIAABCDEFGHIJKLMNOP"}},
		// Set-Cookie keeps its attributes.
		{"set-cookie",
			schema.Exchange{Headers: []schema.Header{{Name: "Set-Cookie", Value: "sid=abc; Path=/; HttpOnly"}}},
			schema.Exchange{Headers: []schema.Header{{Name: "Set-Cookie", Value: "sid=" + ph("abc") + "; Path=/; HttpOnly"}}},
			[]string{"abc"}},
		// A configured header, no scheme.
		{"configured header",
			schema.Exchange{Headers: []schema.Header{{Name: "X-Device-Id", Value: "dev-42"}, {Name: "X-Api-Key", Value: "k-1"}}},
			schema.Exchange{Headers: []schema.Header{{Name: "X-Device-Id", Value: ph("dev-42")}, {Name: "X-Api-Key", Value: ph("k-1")}}},
			[]string{"dev-42", "k-1"}},
		// Query: default and configured parameters; the rest byte for byte.
		{"query",
			schema.Exchange{Query: "q=goal%20replay&access_token=t0k&user=u-77&page=2"},
			schema.Exchange{Query: "q=goal%20replay&access_token=" + ph("t0k") + "&user=" + ph("u-77") + "&page=2"},
			[]string{"t0k", "u-77"}},
		// JSON body fields at any depth; key order kept (user is configured
		// as a secret here, so it is a placeholder, not a user hash).
		{"json body",
			schema.Exchange{Body: []byte(`{"login":{"user":"ann","password":"hunter2"},"n":1}`), BodySize: 50},
			schema.Exchange{Body: []byte(`{"login":{"user":"` + ph("ann") + `","password":"` + ph("hunter2") + `"},"n":1}`), BodySize: 94},
			[]string{"hunter2"}},
		// Form body.
		{"form body",
			schema.Exchange{Body: []byte(`user=ann&password=hunter2`), BodySize: 25},
			schema.Exchange{Body: []byte(`user=` + ph("ann") + `&password=` + ph("hunter2")), BodySize: 69},
			[]string{"hunter2", "=ann"}},
		// Already scrubbed values stay (importing surge's own JSON lines).
		{"idempotent",
			schema.Exchange{Headers: []schema.Header{{Name: "Authorization", Value: "Bearer " + ph("tok123")}}},
			schema.Exchange{Headers: []schema.Header{{Name: "Authorization", Value: "Bearer " + ph("tok123")}}},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in
			got.Headers = append([]schema.Header(nil), tt.in.Headers...)
			s.Exchange(&got)
			if g, w := dump(got), dump(tt.want); g != w || got.BodySize != tt.want.BodySize {
				t.Errorf("scrub:\n got %s (body size %d)\nwant %s (body size %d)", g, got.BodySize, w, tt.want.BodySize)
			}
			for _, secret := range tt.clean {
				if strings.Contains(dump(got), secret) {
					t.Errorf("secret %q survives in %s", secret, dump(got))
				}
			}
		})
	}
}

func dump(e schema.Exchange) string {
	var b strings.Builder
	for _, h := range e.Headers {
		b.WriteString(h.Name + ": " + h.Value + "\n")
	}
	return b.String() + "?" + e.Query + "\n" + string(e.Body)
}

func TestPlaceholderIdentity(t *testing.T) {
	a := NewScrubber(ScrubConfig{Key: key})
	b := NewScrubber(ScrubConfig{Key: []byte("other")})
	tests := []struct {
		name string
		same bool
		x, y string
	}{
		// Same secret, same key: same placeholder.
		{"same", true, a.Placeholder("tok"), a.Placeholder("tok")},
		// Different secrets differ.
		{"different", false, a.Placeholder("tok"), a.Placeholder("tok2")},
		// Another key gives another placeholder.
		{"key", false, a.Placeholder("tok"), b.Placeholder("tok")},
		// Users and sessions are separate namespaces.
		{"namespace", false, a.Hash("u", "42")[2:], a.Hash("s", "42")[2:]},
	}
	for _, tt := range tests {
		if (tt.x == tt.y) != tt.same {
			t.Errorf("%s: %q vs %q; want same=%v", tt.name, tt.x, tt.y, tt.same)
		}
	}
	if p := a.Placeholder("tok"); !strings.HasPrefix(p, PlaceholderPrefix) || !strings.HasSuffix(p, "}}") || len(p) != len(PlaceholderPrefix)+16+2 {
		t.Errorf("Placeholder = %q; want {{secret:<16 hex>}}", p)
	}
}

func BenchmarkScrubExchange(b *testing.B) {
	s := NewScrubber(ScrubConfig{Key: key})
	e := schema.Exchange{Query: "page=2&q=x", Headers: []schema.Header{{Name: "User-Agent", Value: "Mozilla/5.0"}, {Name: "Authorization", Value: "Bearer abcdef"}, {Name: "Cookie", Value: "sid=123"}}}
	b.ReportAllocs()
	for b.Loop() {
		x := e
		x.Headers = append(x.Headers[:0:0], e.Headers...)
		s.Exchange(&x)
	}
}
