package replay

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/surge-replay/surge/accounts"
	"github.com/surge-replay/surge/shaper"
)

// Account is a test account whose token a virtual user presents.
type Account struct {
	Name  string
	Token string
}

// LoadAccounts reads an accounts file: CSV with a header row naming the
// columns "account" and "token" (other columns are ignored), read by
// accounts.CredentialsReader, the reader of surge accounts build
// --credentials.
//
//	account,token
//	loadtest-0001,eyJhbGciOi...
//
// A row that repeats an earlier row's account or token is an
// *accounts.DuplicateError naming both lines (accounts are leased
// exclusively: two live virtual users must never present one account).
func LoadAccounts(path string) ([]Account, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr, err := accounts.NewCredentialsReader(f, path)
	if err != nil {
		return nil, err
	}
	seen := accounts.NewUniqueSet(path)
	var list []Account
	for {
		c, err := cr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := seen.Add(c, cr.Line()); err != nil {
			return nil, err
		}
		list = append(list, Account{Name: c.Account, Token: c.Token})
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s: no accounts", path)
	}
	return list, nil
}

// placeholderPrefix starts a placeholder left by capture scrubbing:
// "{{secret:" + 16 hex digits + "}}".
const placeholderPrefix = "{{secret:"

// substituter replaces placeholders with values for a virtual user (its
// identity: the virtual user, or for an anonymous one its virtual session, so
// no two clones share cookies or tokens). In order:
//
//   - a placeholder or the name of its header or query parameter in secrets
//     (a value shared by every user, like an app key) gets that value;
//   - the credential placeholder of an Authorization header gets the token
//     of the account leased to the user (see leases);
//   - every other placeholder (cookies, per-user keys) gets a value derived
//     from the placeholder and the user: each virtual user presents its own,
//     stable values, as distinct real users did.
//
// It is used by the producer alone: not safe for concurrent use.
type substituter struct {
	accounts []Account
	secrets  map[string]string // placeholder or lower-cased name -> value
	leases   *leases
	now      time.Duration   // schedule time of the request being prepared
	req      *shaper.Request // the request being prepared (nil in some tests)
	lender   *accounts.Lender
	halt     error // a lease the pool refused: the request stops the run
}

func newSubstituter(accounts []Account, secrets map[string]string, idle time.Duration) substituter {
	s := substituter{accounts: accounts, secrets: map[string]string{}}
	for k, v := range secrets {
		if !strings.HasPrefix(k, placeholderPrefix) {
			k = strings.ToLower(k)
		}
		s.secrets[k] = v
	}
	if len(accounts) > 0 {
		s.leases = newLeases(len(accounts), idle)
	}
	return s
}

// value returns the replacement of placeholder ph for user, where name is
// the header or query parameter it is in ("" for a body).
func (s *substituter) value(ph, user, name string) string {
	if v, ok := s.secrets[ph]; ok {
		return v
	}
	if v, ok := s.secrets[strings.ToLower(name)]; ok && name != "" {
		return v
	}
	if s.lender != nil && isCredentialHeader(name) {
		return s.poolCredential(user)
	}
	if len(s.accounts) > 0 && isCredentialHeader(name) {
		if s.leases == nil {
			s.leases = newLeases(len(s.accounts), 0)
		}
		return s.accounts[s.leases.get(user, s.now)].Token
	}
	// Fixed width: a hash with leading zero digits keeps them, so every
	// filled value has the length of the others.
	return fmt.Sprintf("surge-%016x", hashString(ph+"\x00"+user))
}

// replaceQuery substitutes the placeholders of a raw query, parameter by
// parameter (so secrets may name the parameter).
func (s *substituter) replaceQuery(q, user string) string {
	if !strings.Contains(q, placeholderPrefix) {
		return q
	}
	parts := strings.Split(q, "&")
	for i, kv := range parts {
		k, _, _ := strings.Cut(kv, "=")
		parts[i] = s.replace(kv, user, k)
	}
	return strings.Join(parts, "&")
}

// replace substitutes every placeholder in v.
func (s *substituter) replace(v, user, header string) string {
	return s.replaceEscaped(v, user, header, nil)
}

// replacePath substitutes the placeholders of a raw path (a secret the
// scrubber found in a path segment, such as a reset token), each value
// escaped as a path segment (RFC 3986 §3.3), so a token holding '/' or '?'
// stays one segment.
func (s *substituter) replacePath(p, user string) string {
	return s.replaceEscaped(p, user, "", url.PathEscape)
}

// replaceEscaped substitutes every placeholder in v, each value passed
// through escape when it is not nil.
func (s *substituter) replaceEscaped(v, user, header string, escape func(string) string) string {
	if !strings.Contains(v, placeholderPrefix) {
		return v
	}
	var b strings.Builder
	for {
		i := strings.Index(v, placeholderPrefix)
		if i < 0 {
			break
		}
		end := strings.Index(v[i:], "}}")
		if end < 0 {
			break
		}
		b.WriteString(v[:i])
		val := s.value(v[i:i+end+2], user, header)
		if escape != nil {
			val = escape(val)
		}
		b.WriteString(val)
		v = v[i+end+2:]
	}
	b.WriteString(v)
	return b.String()
}

// isCredentialHeader reports whether a header carries a user's credential,
// filled from the user's account. An X-Api-Key is the app's, not the user's:
// it comes from secrets, or a per-user value.
func isCredentialHeader(name string) bool {
	switch strings.ToLower(name) {
	case "authorization", "proxy-authorization", "x-auth-token":
		return true
	}
	return false
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
