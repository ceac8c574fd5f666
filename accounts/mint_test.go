package accounts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// TestMint: a minted token is the template with the HMAC-SHA256 of the
// account name under the key (RFC 2104), the same as any HMAC library
// computes, so that staging can check it; names follow their template.
func TestMint(t *testing.T) {
	m := testMinter(t)
	for _, c := range []struct {
		user string
		k    int
	}{{"u_1", 0}, {"u_1", 1}, {"u_2", 0}} { // two accounts of a user, another user
		got, err := m.Mint(c.user, c.k)
		if err != nil {
			t.Fatal(err)
		}
		mac := hmac.New(sha256.New, []byte("k"))
		mac.Write([]byte(got.Account))
		if want := "surge-" + c.user + "-" + string(rune('0'+c.k)); got.Account != want {
			t.Errorf("Mint(%s, %d) account %q; want %q", c.user, c.k, got.Account, want)
		}
		if want := "tok." + got.Account + "." + hex.EncodeToString(mac.Sum(nil)); got.Token != want {
			t.Errorf("Mint(%s, %d) token %q; want %q", c.user, c.k, got.Token, want)
		}
	}
	m.Key = nil
	m.mac = nil
	if _, err := m.Mint("u", 0); err == nil {
		t.Error("Mint with {hmac} and no key: no error")
	}
}

// TestTemplatesDistinct checks that templates which would give two accounts
// one name or one token are refused, and the usual ones pass.
func TestTemplatesDistinct(t *testing.T) {
	for _, tc := range []struct {
		account, token string
		perUser        int
		wantErr        string // "" for accepted
	}{
		// the defaults
		{DefaultAccountTemplate, "tok.{account}.{hmac}", 3, ""},
		// one account per user needs no {k}
		{"u-{user}", "t-{user}", 1, ""},
		// a fixed name: every account the same
		{"fixed", "tok.{hmac}", 2, "has no {user}"},
		// {user} without {k}: a user's accounts share a name
		{"u-{user}", "tok.{hmac}", 2, "has no {k}"},
		// a fixed token
		{DefaultAccountTemplate, "static", 2, "the same token"},
		// {user} alone: a user's accounts share a token
		{DefaultAccountTemplate, "t-{user}", 2, "the same token"},
		// {user} and {k} tell them apart
		{DefaultAccountTemplate, "t-{user}-{k}", 2, ""},
	} {
		acct, err := ParseTemplate(tc.account, FieldUser, FieldK)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ParseTemplate(tc.token, FieldAccount, FieldUser, FieldK, FieldHMAC)
		if err != nil {
			t.Fatal(err)
		}
		err = errors.Join(CheckAccountTemplate(acct, tc.perUser), CheckTokenTemplate(tok, tc.perUser))
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%q, %q, %d per user: %v; want %q", tc.account, tc.token, tc.perUser, err, tc.wantErr)
		}
	}
}
