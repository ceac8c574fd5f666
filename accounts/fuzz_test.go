package accounts

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCredentialsReader: any bytes give rows or an error naming the file,
// never a panic, and every row returned has an account and a token fit
// for a header.
func FuzzCredentialsReader(f *testing.F) {
	for _, s := range []string{
		"account,token\na,b\n",
		"Token,ACCOUNT,extra\nt1,a1,x\n\"t,2\",a2,y\n",
		"\ufeffaccount,token\r\na,b\r\n",
		"account\na\n",
		"account,token\na\n",
		"account,token\n\"a\nb\",c\n",
		"account,account,token\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewCredentialsReader(strings.NewReader(string(data)), "creds.csv")
		if err != nil {
			if !strings.Contains(err.Error(), "creds.csv") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for range 1000 {
			c, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if !strings.Contains(err.Error(), "creds.csv") {
					t.Fatalf("error %q does not name the file", err)
				}
				continue
			}
			if c.Account == "" || c.Token == "" || strings.ContainsAny(c.Account+c.Token, "\x00\r\n") {
				t.Fatalf("row %+v: empty or holds a 0 byte, CR or LF", c)
			}
		}
	})
}

// FuzzParseTemplate: a template parses or is refused with an error naming
// it; a parsed one expands to its literal text with the fields filled.
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"tok.{account}.{hmac}", "{user}-{k}", "{", "}", "{nope}", "a{k}b{{k}}", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTemplate(s, FieldAccount, FieldUser, FieldK, FieldHMAC)
		if err != nil {
			return
		}
		if tm.String() != s {
			t.Fatalf("String() = %q; want %q", tm.String(), s)
		}
		got := tm.expand("U", 7, "A", []byte{0xab})
		want := strings.NewReplacer("{account}", "A", "{user}", "U", "{k}", "7", "{hmac}", "ab").Replace(s)
		if got != want {
			t.Fatalf("expand(%q) = %q; want %q", s, got, want)
		}
	})
}

// FuzzOpen: a damaged index file is refused with an error, never a panic
// or a Pool whose lookups read out of range.
func FuzzOpen(f *testing.F) {
	p := writeIndex(f, userNames(20), 2)
	good, err := os.ReadFile(p.path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(good[:indexHeader])
	f.Add([]byte("SURGEIDX"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), IndexFile)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Open(path)
		if err != nil {
			return
		}
		defer p.Close()
		for _, u := range userNames(20) {
			first, n := p.Lookup(u)
			if n > 0 && (first < 0 || first+n > p.Accounts()) {
				t.Fatalf("Lookup(%s) = %d+%d beyond %d accounts", u, first, n, p.Accounts())
			}
		}
		var buf []byte
		for a := range min(p.Accounts(), 50) {
			_, _, buf, _ = p.Credential(a, buf)
		}
	})
}

// FuzzReadBucket: a damaged bucket file (the builder's own temporary
// format) is an error, never a panic; a good one reads back what was put.
func FuzzReadBucket(f *testing.F) {
	dir := f.TempDir()
	w, err := newBucketWriter(dir, 0)
	if err != nil {
		f.Fatal(err)
	}
	w.put(&view{hash: 1, time: 2, position: -3, user: "u", session: "s", content: "c", device: "tv", region: "eu"})
	w.put(&view{hash: 4})
	if err := w.close(); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, "bucket-0000"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "bucket")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		vs, err := readBucket(path, nil)
		if err != nil {
			return
		}
		if string(data) == string(good) && (len(vs) != 2 || vs[0].user != "u" || vs[0].position != -3 || vs[1].hash != 4) {
			t.Fatalf("read back %+v", vs)
		}
	})
}

// FuzzReadUnique: a damaged record file of the duplicate check (the
// builder's own temporary format) is an error, never a panic; a good one
// reads back what was put.
func FuzzReadUnique(f *testing.F) {
	u := newUniqueSpill(f.TempDir(), "creds.csv")
	u.put(kindAccount, 2, "a1", 0)
	u.put(kindToken, 3, "0123456789abcdef", 0)
	u.ws[0].Flush()
	good, err := os.ReadFile(u.files[0].Name())
	if err != nil {
		f.Fatal(err)
	}
	u.remove()
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte{0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := readUnique(data, nil)
		if err != nil {
			return
		}
		if string(data) == string(good) && (len(recs) != 2 || recs[0].value != "a1" || recs[0].line != 2 || recs[1].kind != kindToken || recs[1].line != 3) {
			t.Fatalf("read back %+v", recs)
		}
	})
}
