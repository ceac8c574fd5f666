package capture

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// maxJWT bounds the token jwtSubject decodes: larger values are not taken
// for session keys (a header can be up to the server's header limit).
const maxJWT = 8 << 10

// jwtSubject returns the "sub" claim (RFC 7519 section 4.1.2) of the JWT in
// a header value: the value itself or the token after an auth scheme
// ("Bearer eyJ..."). The signature is not verified: the claim only groups
// requests into sessions, it authorizes nothing. ok is false when the value
// holds no JWT with a non-empty string sub.
func jwtSubject(v string) (sub string, ok bool) {
	v = strings.TrimSpace(v)
	if scheme, rest, found := strings.Cut(v, " "); found && isAuthScheme(scheme) {
		v = strings.TrimSpace(rest)
	}
	if len(v) > maxJWT {
		return "", false
	}
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", false
	}
	var claims struct {
		Sub any `json:"sub"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return "", false
	}
	s, isString := claims.Sub.(string)
	if !isString || s == "" {
		return "", false
	}
	return s, true
}
