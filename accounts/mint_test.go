package accounts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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
