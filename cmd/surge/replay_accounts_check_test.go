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
