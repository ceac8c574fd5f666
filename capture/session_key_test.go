package capture

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/surge-replay/surge/schema"
)

// testJWT returns an unsigned-looking JWT with the given payload JSON.
func testJWT(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + ".c2lnbmF0dXJl"
}

func TestParseSessionKey(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    SessionKey
		wantErr string
	}{
		{"", SessionKey{}, ""}, // client address + user agent
		{"cookie:sid", SessionKey{"cookie", "sid"}, ""},
		{"header:X-Session", SessionKey{"header", "X-Session"}, ""},
		{"query:s", SessionKey{"query", "s"}, ""},
		{"jwt:Authorization", SessionKey{"jwt", "Authorization"}, ""}, // the sub claim
		{"cookie", SessionKey{}, "want cookie:NAME"},                  // no name
		{"cookie:", SessionKey{}, "want cookie:NAME"},                 // empty name
		{"body:x", SessionKey{}, `"body" is not cookie, header, query or jwt`},
	} {
		got, err := ParseSessionKey(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseSessionKey(%q) = %v; want error with %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSessionKey(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestJWTSessionKey(t *testing.T) {
	key := SessionKey{Kind: "jwt", Name: "Authorization"}
	for _, tc := range []struct {
		value  string
		want   string
		wantOK bool
	}{
		{"Bearer " + testJWT(`{"sub":"user-7","exp":1}`), "user-7", true}, // bearer token
		{testJWT(`{"sub":"user-8"}`), "user-8", true},                     // bare token
		{"Bearer " + testJWT(`{"sub":17}`), "", false},                    // sub not a string
		{"Bearer " + testJWT(`{"name":"x"}`), "", false},                  // no sub
		{"Bearer not.a.jwt", "", false},                                   // payload not base64 JSON
		{"Basic dXNlcjpwYXNz", "", false},                                 // not a JWT
	} {
		e := &schema.Exchange{Headers: []schema.Header{{Name: "Authorization", Value: tc.value}}}
		got, ok := key.find(e)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("find(%q) = %q, %v; want %q, %v", tc.value, got, ok, tc.want, tc.wantOK)
		}
	}
}

func FuzzParseSessionKey(f *testing.F) {
	for _, s := range []string{"", "cookie:sid", "jwt:Authorization", "query:", "x:y:z"} {
		f.Add(s, "Bearer "+testJWT(`{"sub":"u"}`))
	}
	f.Fuzz(func(t *testing.T, s, header string) {
		k, err := ParseSessionKey(s)
		if err != nil {
			if !strings.Contains(err.Error(), "session key") {
				t.Fatalf("ParseSessionKey(%q) error %q does not name what it parsed", s, err)
			}
			return
		}
		if s != "" && k.String() != s {
			t.Fatalf("ParseSessionKey(%q).String() = %q", s, k.String())
		}
		e := &schema.Exchange{Query: header, Headers: []schema.Header{{Name: k.Name, Value: header}, {Name: "Cookie", Value: header}}}
		if v, ok := k.find(e); ok && v == "" {
			t.Fatalf("find found an empty key in %q", header)
		}
	})
}
