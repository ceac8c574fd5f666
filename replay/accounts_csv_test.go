package replay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadAccountsCSVForms checks the CSV of --accounts in the forms
// spreadsheets and other systems write, and that a bad one names what is
// wrong and where.
func TestLoadAccountsCSVForms(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, text string
		want       []Account
		wantErr    string
	}{
		// plain
		{"plain", "account,token\na1,t1\na2,t2\n", []Account{{"a1", "t1"}, {"a2", "t2"}}, ""},
		// a byte order mark before the header (Excel's "CSV UTF-8")
		{"bom", "\ufeffaccount,token\na1,t1\n", []Account{{"a1", "t1"}}, ""},
		// CRLF line ends
		{"crlf", "account,token\r\na1,t1\r\n", []Account{{"a1", "t1"}}, ""},
		// columns in another order, with an extra one
		{"order", "extra,Token,Account\nx,t1,a1\n", []Account{{"a1", "t1"}}, ""},
		// an empty file
		{"empty", "", nil, "empty: want a header row"},
		// no token column
		{"nocol", "account,password\na1,p1\n", nil, ":1: header must name the columns account and token"},
		// a row without its token
		{"ragged", "account,token\na1,t1\na2\n", nil, ":3: want an account and a token"},
		// the same login twice: two virtual users would share it
		{"dup-account", "account,token\na1,t1\na2,t2\na1,t3\n", nil, `:4: account "a1" repeats line 2`},
		// two logins, one token: the same identity at the target; the token is not printed
		{"dup-token", "account,token\na1,secret-1\na2,secret-1\n", nil, ":3: the token repeats line 2's (tokens are not shown)"},
		// a row without its account
		{"noaccount", "account,token\n,t1\n", nil, ":2: want an account and a token"},
		// a token holding a line break (it goes into a header)
		{"crlf-token", "account,token\na1,\"t\n1\"\n", nil, ":2: an account or token holds a 0 byte, CR or LF"},
		// only a header
		{"none", "account,token\n", nil, "no accounts"},
	} {
		path := filepath.Join(dir, tc.name+".csv")
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := LoadAccounts(path)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
				t.Errorf("%s: %v; want an error naming the file and containing %q", tc.name, err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: %v prints a token", tc.name, err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: account %d = %+v; want %+v", tc.name, i, got[i], tc.want[i])
			}
		}
	}
}
