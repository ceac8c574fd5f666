package accounts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// uniqueCases are credentials CSVs and the repeat each must be refused
// for (wantLine 0: none). Both UniqueSet and the pool build's spill run
// every case.
var uniqueCases = []struct {
	name      string
	rows      []string // data rows after the header account,token
	wantLine  int      // the repeating row's line (the header is line 1)
	wantFirst int
	wantField string
}{
	// distinct rows
	{"distinct", []string{"a1,t1", "a2,t2", "a3,t3"}, 0, 0, ""},
	// the same login twice, different tokens
	{"account", []string{"a1,t1", "a2,t2", "a1,t3"}, 4, 2, DupAccount},
	// two logins, one token: the same identity at the target
	{"token", []string{"a1,t1", "a2,t2", "a3,t2"}, 4, 3, DupToken},
	// a whole row twice: the account is named, not the token
	{"row", []string{"a1,secret-1", "a2,t2", "a1,secret-1"}, 4, 2, DupAccount},
	// three of one login: the first repeat is reported, against the first row
	{"three", []string{"a1,t1", "a1,t2", "a1,t3"}, 3, 2, DupAccount},
	// two repeats: the one whose later row comes first in the file
	{"earliest", []string{"a1,t1", "a2,t2", "a3,t3", "a3,t4", "a1,t5"}, 5, 4, DupAccount},
	// logins differ only in case: distinct (staging compares them exactly)
	{"case", []string{"a1,t1", "A1,t2"}, 0, 0, ""},
}

func checkDup(t *testing.T, what string, err error, wantLine, wantFirst int, wantField string) {
	t.Helper()
	var de *DuplicateError
	if wantLine == 0 {
		if err != nil {
			t.Errorf("%s: %v; want no error", what, err)
		}
		return
	}
	if !errors.As(err, &de) || de.Line != wantLine || de.FirstLine != wantFirst || de.Field != wantField {
		t.Errorf("%s: %v; want line %d repeating line %d's %s", what, err, wantLine, wantFirst, wantField)
		return
	}
	msg := err.Error()
	if !strings.Contains(msg, fmt.Sprintf("creds.csv:%d:", wantLine)) || !strings.Contains(msg, fmt.Sprintf("line %d", wantFirst)) {
		t.Errorf("%s: %q does not name the file and both lines", what, msg)
	}
	if wantField == DupAccount && !strings.Contains(msg, `"`+de.Account+`"`) {
		t.Errorf("%s: %q does not name the account", what, msg)
	}
	if strings.Contains(msg, "secret") || strings.Contains(msg, "t2") {
		t.Errorf("%s: %q prints a token", what, msg)
	}
}

func TestUniqueSet(t *testing.T) {
	for _, c := range uniqueCases {
		cr, err := NewCredentialsReader(strings.NewReader("account,token\n"+strings.Join(c.rows, "\n")+"\n"), "creds.csv")
		if err != nil {
			t.Fatal(err)
		}
		u := NewUniqueSet("creds.csv")
		var dup error
		for dup == nil {
			cred, err := cr.Next()
			if err != nil {
				break
			}
			dup = u.Add(cred, cr.Line())
		}
		checkDup(t, c.name, dup, c.wantLine, c.wantFirst, c.wantField)
	}
}

// TestBuildRefusesRepeatedCredentials: a pool built from a CSV with a
// repeated login or token is refused, naming the file, both lines and the
// login, and nothing is written; the spill files are gone.
func TestBuildRefusesRepeatedCredentials(t *testing.T) {
	dir := t.TempDir()
	views := writeViews(t, dir, syntheticViews(3, 9)) // 3 users × ratio 1: 3 accounts
	for _, c := range uniqueCases {
		rows := append([]string(nil), c.rows...)
		for i := len(rows); i < 3; i++ {
			rows = append(rows, fmt.Sprintf("pad%d,pad-token%d", i, i))
		}
		cr, err := NewCredentialsReader(strings.NewReader("account,token\n"+strings.Join(rows, "\n")+"\n"), "creds.csv")
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, c.name)
		_, err = Build(context.Background(), BuildConfig{Views: []string{views}, RatioMax: float64(len(rows)) / 3, Credentials: cr,
			CredentialsName: "csv:creds.csv", Out: out})
		checkDup(t, c.name, err, c.wantLine, c.wantFirst, c.wantField)
		if _, serr := os.Stat(out); (c.wantLine != 0) != os.IsNotExist(serr) {
			t.Errorf("%s: pool written = %v; want %v", c.name, serr == nil, c.wantLine == 0)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("builds left %v", left)
	}
}

// BenchmarkUniqueSpill measures the pool build's duplicate check of a
// credentials CSV: 1M distinct rows (names like loadtest-0001234, 80-byte
// tokens) spilled and checked; ns/row and the spill's bytes/row.
func BenchmarkUniqueSpill(b *testing.B) {
	const rows = 1_000_000
	tok := strings.Repeat("x", 64)
	for b.Loop() {
		dir := b.TempDir()
		u := newUniqueSpill(dir, "creds.csv")
		for i := range rows {
			if err := u.add(Credential{Account: fmt.Sprintf("loadtest-%07d", i), Token: fmt.Sprintf("%s%016x", tok, i)}, i+2); err != nil {
				b.Fatal(err)
			}
		}
		var spilled int64
		for _, w := range u.ws {
			if w != nil {
				w.Flush()
			}
		}
		for _, f := range u.files {
			if f != nil {
				st, _ := f.Stat()
				spilled += st.Size()
			}
		}
		if err := u.find(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(spilled)/rows, "spill-B/row")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}
