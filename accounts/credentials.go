package accounts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
)

// Credential is one staging account: its name and the credential (token)
// a virtual user signed in as it presents.
type Credential struct {
	Account, Token string
}

// CredentialsReader reads a CSV of staging accounts one row at a time
// (bounded memory, for millions of rows): a header row naming the columns
// "account" and "token" (any order, case-insensitive, other columns
// ignored), then one account per row.
//
//	account,token
//	loadtest-0001,eyJhbGciOi...
type CredentialsReader struct {
	name           string
	r              *csv.Reader
	account, token int
	line           int // of the row Next returned last
}

// NewCredentialsReader reads the header of the CSV r (named name in
// errors) and returns a reader of its rows.
func NewCredentialsReader(r io.Reader, name string) (*CredentialsReader, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty: want a header row naming the columns account and token", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: header row: %w", name, err)
	}
	c := &CredentialsReader{name: name, r: cr, account: -1, token: -1}
	for i, h := range header {
		col := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		var p *int
		switch col {
		case "account":
			p = &c.account
		case "token":
			p = &c.token
		default:
			continue
		}
		if *p >= 0 {
			return nil, fmt.Errorf("%s:1: column %s named twice", name, col)
		}
		*p = i
	}
	if c.account < 0 || c.token < 0 {
		return nil, fmt.Errorf("%s:1: header must name the columns account and token", name)
	}
	return c, nil
}

// Next returns the next account, or io.EOF after the last. A row without
// an account or token, or whose values hold a 0 byte, CR or LF, is an error
// naming its line.
func (c *CredentialsReader) Next() (Credential, error) {
	rec, err := c.r.Read()
	if errors.Is(err, io.EOF) {
		return Credential{}, io.EOF
	}
	if err != nil {
		return Credential{}, fmt.Errorf("%s: %w", c.name, err)
	}
	line, _ := c.r.FieldPos(0)
	c.line = line
	if len(rec) <= max(c.account, c.token) || rec[c.account] == "" || rec[c.token] == "" {
		return Credential{}, fmt.Errorf("%s:%d: want an account and a token", c.name, line)
	}
	cr := Credential{Account: rec[c.account], Token: rec[c.token]}
	if strings.ContainsAny(cr.Account, "\x00\r\n") || strings.ContainsAny(cr.Token, "\x00\r\n") {
		return Credential{}, fmt.Errorf("%s:%d: an account or token holds a 0 byte, CR or LF", c.name, line)
	}
	return cr, nil
}

// Name returns the name the reader gives its CSV in errors.
func (c *CredentialsReader) Name() string { return c.name }

// Line returns the line (from 1, the header's) where the row Next returned
// last starts.
func (c *CredentialsReader) Line() int { return c.line }

// Template is a parsed account-name or token template: literal text and
// the fields {account} (the account's name; not in an account template),
// {user} (the recorded user id), {k} (the account's number among its
// user's, from 0) and {hmac} (hex HMAC-SHA256 of the account name under the
// token key, RFC 2104; tokens only).
type Template struct {
	parts []tmplPart
	text  string
}

type tmplPart struct {
	lit   string
	field string // "" for a literal
}

// Template fields.
const (
	FieldAccount = "account"
	FieldUser    = "user"
	FieldK       = "k"
	FieldHMAC    = "hmac"
)

// ParseTemplate parses a template whose fields must be among allowed. An
// unknown field or an unclosed brace is an error naming its offset.
func ParseTemplate(text string, allowed ...string) (*Template, error) {
	t := &Template{text: text}
	rest := text
	for rest != "" {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			t.parts = append(t.parts, tmplPart{lit: rest})
			break
		}
		off := len(text) - len(rest) + i
		if rest[i] == '}' {
			return nil, fmt.Errorf("template %q: offset %d: '}' without '{'", text, off)
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{lit: rest[:i]})
		}
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("template %q: offset %d: '{' never closed", text, off)
		}
		field := rest[i+1 : i+end]
		ok := false
		for _, a := range allowed {
			ok = ok || a == field
		}
		if !ok {
			return nil, fmt.Errorf("template %q: offset %d: unknown field {%s} (want one of {%s})", text, off, field, strings.Join(allowed, "}, {"))
		}
		t.parts = append(t.parts, tmplPart{field: field})
		rest = rest[i+end+1:]
	}
	if len(t.parts) == 0 {
		return nil, errors.New("template is empty")
	}
	return t, nil
}

// Uses reports whether the template has field.
func (t *Template) Uses(field string) bool {
	for _, p := range t.parts {
		if p.field == field {
			return true
		}
	}
	return false
}

// String returns the template's text.
func (t *Template) String() string { return t.text }

// Minter makes account names and tokens from templates. Tokens are minted
// with a keyed hash so that a staging service holding the same key can
// check them (HMAC-SHA256, RFC 2104), and nobody without it can forge one.
// Not safe for concurrent use.
type Minter struct {
	Account *Template // fields {user}, {k}
	Token   *Template // fields {account}, {user}, {k}, {hmac}
	Key     []byte    // the HMAC key; required when Token uses {hmac}

	mac hash.Hash // HMAC-SHA256 under Key, made at the first Mint
	sum []byte
}

// DefaultAccountTemplate names minted accounts.
const DefaultAccountTemplate = "surge-{user}-{k}"

// Mint returns the name and token of account k of recorded user user.
func (m *Minter) Mint(user string, k int) (Credential, error) {
	name := m.Account.expand(user, k, "", nil)
	var mac []byte
	if m.Token.Uses(FieldHMAC) {
		if len(m.Key) == 0 {
			return Credential{}, errors.New("token template uses {hmac}: give a token key (--token-key-file or SURGE_ACCOUNTS_TOKEN_KEY)")
		}
		if m.mac == nil {
			m.mac = hmac.New(sha256.New, m.Key)
		}
		m.mac.Reset()
		m.mac.Write([]byte(name))
		m.sum = m.mac.Sum(m.sum[:0])
		mac = m.sum
	}
	return Credential{Account: name, Token: m.Token.expand(user, k, name, mac)}, nil
}

func (t *Template) expand(user string, k int, account string, mac []byte) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.field {
		case "":
			b.WriteString(p.lit)
		case FieldUser:
			b.WriteString(user)
		case FieldK:
			b.WriteString(strconv.Itoa(k))
		case FieldAccount:
			b.WriteString(account)
		case FieldHMAC:
			b.WriteString(hex.EncodeToString(mac))
		}
	}
	return b.String()
}

// CheckAccountTemplate reports an account-name template that would give two
// accounts of a pool with perUser accounts per recorded user the same name:
// it must use {user}, and {k} when perUser > 1. Two virtual users signed in
// under one name would share an account on the target.
func CheckAccountTemplate(t *Template, perUser int) error {
	switch {
	case !t.Uses(FieldUser):
		return fmt.Errorf("template %q has no {user}: every recorded user's accounts would get the same names", t.text)
	case perUser > 1 && !t.Uses(FieldK):
		return fmt.Errorf("template %q has no {k}: the %d accounts of each recorded user would get the same name", t.text, perUser)
	}
	return nil
}

// CheckTokenTemplate reports a token template that would give two accounts
// the same token (given an account template that passes
// CheckAccountTemplate): it must use {account} or {hmac} (both one per
// account name), or {user} and, when perUser > 1, {k}.
func CheckTokenTemplate(t *Template, perUser int) error {
	if t.Uses(FieldAccount) || t.Uses(FieldHMAC) {
		return nil
	}
	if t.Uses(FieldUser) && (perUser == 1 || t.Uses(FieldK)) {
		return nil
	}
	return fmt.Errorf("template %q gives accounts the same token: use {account} or {hmac} (or {user} and {k})", t.text)
}
