package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surge-replay/surge/accounts"
)

// TestPoolCheckWarning: replay warns before the run when the pool's index
// has no checksums (index version 1), and says nothing for a checked one.
func TestPoolCheckWarning(t *testing.T) {
	path := filepath.Join(t.TempDir(), accounts.IndexFile)
	w, err := accounts.NewIndexWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddUser(accounts.UserHash("u1")); err != nil {
		t.Fatal(err)
	}
	if err := w.AddAccount("a1", "t1"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		version uint32
		want    string
	}{
		// the index this surge writes: checked, no warning
		{"version 2", 2, ""},
		// an older pool's index: read unchecked, and the user is told to rebuild
		{"version 1", 1, "has no checksums (built by an older surge): a damaged name or credential would go unnoticed; rebuild the pool"},
	} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if c.version == 1 {
			binary.LittleEndian.PutUint32(data[8:], 1)
			clear(data[48:64])
		}
		p2 := filepath.Join(t.TempDir(), accounts.IndexFile)
		os.WriteFile(p2, data, 0o644)
		p, err := accounts.Open(p2)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := poolCheckWarning(p)
		p.Close()
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) || (got != "" && !strings.Contains(got, p2)) {
			t.Errorf("%s: poolCheckWarning = %q; want %q naming %s", c.name, got, c.want, p2)
		}
	}
	if got := poolCheckWarning(nil); got != "" {
		t.Errorf("no pool: %q; want nothing", got)
	}
}

// TestAccountsVerify: surge accounts verify passes a sound index, and names
// the file and the part for a bit flipped in the names and credentials,
// for a header flipped, and for an index without checksums.
func TestAccountsVerify(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pool")
	os.Mkdir(dir, 0o755)
	path := filepath.Join(dir, accounts.IndexFile)
	w, err := accounts.NewIndexWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddUser(accounts.UserHash("u2")); err != nil {
		t.Fatal(err)
	}
	if err := w.AddAccount("a2", "t2"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		damage func(b []byte)
		want   string // in the error; "" for a pass
	}{
		// as written
		{"sound", func([]byte) {}, ""},
		// a credential's letter (the last record: "a2\0t2" and its CRC)
		{"credential", func(b []byte) { b[len(b)-5] ^= 1 }, "names and credentials (blob)"},
		// the header's user count
		{"header", func(b []byte) { b[16] ^= 1 }, "header (bytes 0..63): CRC-32C"},
		// a version 1 index: nothing to check against
		{"version 1", func(b []byte) { binary.LittleEndian.PutUint32(b[8:], 1); clear(b[48:64]) }, "has no checksums (rebuild the pool)"},
	} {
		b := append([]byte(nil), good...)
		c.damage(b)
		os.WriteFile(path, b, 0o644)
		out, _, err := surge(t, "accounts", "verify", dir)
		if c.want == "" {
			if err != nil || !strings.Contains(out, "checksums match") {
				t.Errorf("%s: %q, %v; want it verified", c.name, out, err)
			}
			continue
		}
		if exitCode(err) != 1 || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: exit %d, %v; want exit 1 naming %s and %q", c.name, exitCode(err), err, path, c.want)
		}
	}
}
