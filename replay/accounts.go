package replay

import (
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strconv"
	"strings"
)

// Account is a test account whose token a virtual user presents.
type Account struct {
	Name  string
	Token string
}

// LoadAccounts reads an accounts file: CSV with a header row naming the
// columns "account" and "token" (other columns are ignored).
//
//	account,token
//	loadtest-0001,eyJhbGciOi...
func LoadAccounts(path string) ([]Account, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header row: %w", path, err)
	}
	nameCol, tokenCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "account":
			nameCol = i
		case "token":
			tokenCol = i
		}
	}
	if nameCol < 0 || tokenCol < 0 {
		return nil, fmt.Errorf("%s:1: header must name the columns account and token", path)
	}
	var accounts []Account
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) <= max(nameCol, tokenCol) || rec[tokenCol] == "" {
			return nil, fmt.Errorf("%s:%d: want an account and a token", path, line)
		}
		accounts = append(accounts, Account{Name: rec[nameCol], Token: rec[tokenCol]})
	}
	if len(accounts) == 0 {
		return nil, fmt.Errorf("%s: no accounts", path)
	}
	return accounts, nil
}

// placeholderPrefix starts a placeholder left by capture scrubbing:
// "{{secret:" + 16 hex digits + "}}".
const placeholderPrefix = "{{secret:"

// substituter replaces placeholders with values for a virtual user: the
// credential placeholders of Authorization-like headers get the token of the
// user's test account (assigned by a hash of the user, so a user always has
// the same account); every other placeholder (cookies, API keys) gets a value
// derived from the placeholder and the user, so each virtual user presents its
// own, stable values, as distinct real users did.
type substituter struct {
	accounts []Account
}

// value returns the replacement of placeholder ph for user, where header is
// the header it is in ("" for query and body).
func (s *substituter) value(ph, user, header string) string {
	if len(s.accounts) > 0 && isCredentialHeader(header) {
		return s.accounts[hashString(user)%uint64(len(s.accounts))].Token
	}
	return "surge-" + strconv.FormatUint(hashString(ph+"\x00"+user), 16)
}

// replace substitutes every placeholder in v.
func (s *substituter) replace(v, user, header string) string {
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
		b.WriteString(s.value(v[i:i+end+2], user, header))
		v = v[i+end+2:]
	}
	b.WriteString(v)
	return b.String()
}

func isCredentialHeader(name string) bool {
	switch strings.ToLower(name) {
	case "authorization", "proxy-authorization", "x-api-key", "x-auth-token":
		return true
	}
	return false
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
