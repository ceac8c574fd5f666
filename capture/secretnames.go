package capture

import "strings"

// Default scrub lists (docs/FORMATS.md, "Scrubbing"). All names compare
// case-insensitively. Besides these exact names, any header, query parameter
// or body field whose name contains one of SecretNameParts is a secret.
// Sources: the rules of gitleaks and trufflehog, Elastic APM's
// sanitize_field_names, Sentry's and Datadog's default scrubbers.
var (
	DefaultSecretHeaders = []string{
		"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
		"X-Api-Key", "Api-Key", "Apikey", "X-Auth-Token", "X-Csrf-Token", "X-Xsrf-Token",
		"X-Amz-Security-Token", "X-Goog-Api-Key", "Private-Token", "X-Gitlab-Token",
		"X-Hub-Signature", "X-Hub-Signature-256", "X-Slack-Signature", "Stripe-Signature",
		"X-Auth", "X-Session", "X-Session-Id", "X-Client-Secret",
	}
	DefaultSecretQuery = []string{
		"token", "access_token", "id_token", "refresh_token", "private_token", "auth_token",
		"api_key", "apikey", "key", "sig", "signature", "password", "passwd", "pwd", "pass",
		"secret", "client_secret", "auth", "code_verifier",
		"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "Signature", "AWSAccessKeyId",
		"sid", "session", "sessionid", "session_id", "jsessionid", "phpsessid", "asp.net_sessionid",
	}
	DefaultSecretFields = DefaultSecretQuery

	// SecretNameParts make any name holding one of them a secret name
	// ("csrf_token", "db_password", "X-Refresh-Token").
	SecretNameParts = []string{
		"token", "secret", "passw", "apikey", "api_key", "api-key", "credential",
		"signature", "private_key", "privatekey", "sessionid", "session_id", "session-id", "sessid",
		"authorization",
	}

	// DefaultUserNames are query parameters, body fields and headers that
	// carry a user identifier: their values become keyed user hashes
	// ("u_" + 16 hex digits), the same as the user key of a session.
	DefaultUserNames = []string{
		"user", "uid", "user_id", "userid", "user-id", "username", "user_name", "login",
		"email", "e-mail", "mail", "account", "account_id", "accountid", "account-id",
		"customer", "customer_id", "customerid", "member_id", "memberid", "msisdn",
		"phone", "phone_number", "subscriber_id", "profile_id", "viewer_id",
		"X-User", "X-User-Id", "X-Account-Id", "X-Customer-Id", "X-User-Email",
	}
)

// DefaultPlainCookies are cookies whose values are preferences, not
// secrets: they are kept as recorded (unless a value detector finds a
// secret in one), so a replay sends what the viewer's browser sent. Every
// other cookie value becomes a placeholder.
var DefaultPlainCookies = []string{
	"lang", "language", "locale", "lc", "theme", "tz", "timezone", "currency",
	"country", "consent", "cookie_consent", "cookieconsent", "dark_mode",
	"quality", "volume", "autoplay", "subtitles",
}

// plainCookie reports whether cookie name is one of DefaultPlainCookies.
func plainCookie(name string) bool {
	for _, n := range DefaultPlainCookies {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// nameKind is what a name's value is.
type nameKind uint8

const (
	plainName  nameKind = iota
	secretName          // value becomes a placeholder
	userName            // value becomes a user hash
	cookieName          // value is a cookie list: each value a placeholder
)

// nameRules classify names. Configured names win over default ones; a secret
// name wins over a user name.
type nameRules struct {
	headers map[string]nameKind // lower case
	params  map[string]nameKind // lower case
	cache   map[string]nameKind // raw name -> kind, for params and text
	// recent remembers the last header names classified: an access log
	// has the same few (its format's) on every line, compared here
	// without hashing or building the cache key.
	recent [8]struct {
		name string
		kind nameKind
	}
	next int // the recent entry to replace
}

func newNameRules(c ScrubConfig) *nameRules {
	r := &nameRules{headers: map[string]nameKind{}, params: map[string]nameKind{}, cache: map[string]nameKind{}}
	add := func(m map[string]nameKind, names []string, k nameKind) {
		for _, n := range names {
			n = strings.ToLower(n)
			if _, ok := m[n]; !ok {
				m[n] = k
			}
		}
	}
	// Configured first so they win.
	add(r.headers, c.Headers, secretName)
	add(r.params, c.Query, secretName)
	add(r.params, c.Fields, secretName)
	add(r.params, c.Users, userName)
	add(r.headers, c.Users, userName)
	r.headers["cookie"], r.headers["set-cookie"] = cookieName, cookieName
	add(r.headers, DefaultSecretHeaders, secretName)
	add(r.params, DefaultSecretQuery, secretName)
	add(r.params, DefaultSecretFields, secretName)
	add(r.params, DefaultUserNames, userName)
	add(r.headers, DefaultUserNames, userName)
	return r
}

// header classifies a header name.
func (r *nameRules) header(name string) nameKind {
	for i := range r.recent {
		if e := &r.recent[i]; e.name == name && name != "" {
			return e.kind
		}
	}
	k, ok := r.cache["\x00"+name]
	if !ok {
		l := strings.ToLower(name)
		if k, ok = r.headers[l]; !ok && hasSecretPart(l) {
			k = secretName
		}
		r.remember("\x00"+name, k)
	}
	r.recent[r.next] = struct {
		name string
		kind nameKind
	}{name, k} // at most 8 records' text kept alive
	r.next = (r.next + 1) % len(r.recent)
	return k
}

// param classifies a query parameter or body field name (or a name found in
// free text, which may also be a header name).
func (r *nameRules) param(name string) nameKind {
	if k, ok := r.cache[name]; ok {
		return k
	}
	l := strings.ToLower(name)
	k, ok := r.params[l]
	if !ok {
		if hk, hok := r.headers[l]; hok {
			k = hk
		} else if hasSecretPart(l) {
			k = secretName
		}
	}
	r.remember(name, k)
	return k
}

func (r *nameRules) remember(name string, k nameKind) {
	if len(r.cache) >= 4096 {
		clear(r.cache)
	}
	r.cache[strings.Clone(name)] = k // name may be part of a record's text
}

func hasSecretPart(lower string) bool {
	for _, p := range SecretNameParts {
		if strings.Contains(lower, p) {
			return true
		}
	}
	return false
}
