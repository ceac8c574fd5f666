package accounts

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// indexLayout is where the sections of an index file start.
type indexLayout struct {
	n, m, offsets, blob int64
}

func layoutOf(data []byte) indexLayout {
	n := int64(binary.LittleEndian.Uint64(data[16:]))
	m := int64(binary.LittleEndian.Uint64(data[24:]))
	firsts := (n + 1) * 4
	firsts += firsts % 8
	offsets := indexHeader + 8*n + firsts
	return indexLayout{n: n, m: m, offsets: offsets, blob: offsets + 8*(m+1)}
}

// TestIndexChecksums flips one bit in each part of an index file and
// checks that the damage is found where the file is read: Open for the
// header and the user table, Credential for a record (the names area),
// Verify for everything; each error names the file and the part.
func TestIndexChecksums(t *testing.T) {
	good, err := os.ReadFile(writeIndex(t, userNames(40), 2).path)
	if err != nil {
		t.Fatal(err)
	}
	l := layoutOf(good)
	rec := func(a int64) (start, end int64) { // account a's record in the file
		return l.blob + int64(binary.LittleEndian.Uint64(good[l.offsets+8*a:])), l.blob + int64(binary.LittleEndian.Uint64(good[l.offsets+8*a+8:]))
	}
	s5, e5 := rec(5)
	for _, c := range []struct {
		name string
		at   int64 // the byte whose low bit is flipped
		open string
		acct []int64 // the accounts whose Credential fails
		cred string
		ver  string
	}{
		// the flags word of the header: nothing reads it, the header CRC catches it
		{"header flags", 12, "header (bytes 0..63): CRC-32C", nil, "", ""},
		// the blob length, compensated nowhere: the header CRC, before the size check
		{"header blob length", 32, "header (bytes 0..63): CRC-32C", nil, "", ""},
		// a stored checksum itself
		{"header blob CRC", 56, "header (bytes 0..63): CRC-32C", nil, "", ""},
		// a user hash: lookups would miss the user
		{"user hash", indexHeader + 8*7, "user table (bytes 64..", nil, "", ""},
		// an account range
		{"account range", indexHeader + 8*l.n + 4*3, "user table (bytes 64..", nil, "", ""},
		// offsets[5], the end of account 4's record and the start of 5's
		{"offset", l.offsets + 8*5, "", []int64{4, 5}, "CRC-32C", "account offsets (bytes"},
		// a letter of an account name (the names area)
		{"name", s5 + 1, "", []int64{5}, "account 5: name and credential record", "names and credentials (blob)"},
		// a letter of a credential
		{"credential", e5 - 6, "", []int64{5}, "account 5: name and credential record", "names and credentials (blob)"},
		// the record's own CRC
		{"record CRC", e5 - 1, "", []int64{5}, "account 5: name and credential record", "names and credentials (blob)"},
	} {
		data := append([]byte(nil), good...)
		data[c.at] ^= 1
		path := filepath.Join(t.TempDir(), IndexFile)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Open(path)
		if c.open != "" {
			if err == nil || !strings.Contains(err.Error(), c.open) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "rebuild the pool") {
				t.Errorf("%s: Open = %v; want an error naming %s and %q", c.name, err, path, c.open)
			}
			if p != nil {
				p.Close()
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Open = %v; want it to load (the damage is outside what it reads)", c.name, err)
			continue
		}
		for a := range int64(p.Accounts()) {
			_, _, _, err := p.Credential(int(a), nil)
			bad := slices.Contains(c.acct, a)
			if !bad && err != nil {
				t.Errorf("%s: Credential(%d) = %v; want no error", c.name, a, err)
			}
			if bad && (err == nil || !strings.Contains(err.Error(), c.cred) || !strings.Contains(err.Error(), path)) {
				t.Errorf("%s: Credential(%d) = %v; want an error naming %s and %q", c.name, a, err, path, c.cred)
			}
		}
		if err := p.Verify(); err == nil || !strings.Contains(err.Error(), c.ver) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Verify = %v; want an error naming %s and %q", c.name, err, path, c.ver)
		}
		p.Close()
	}
	// The undamaged file: everything reads and verifies.
	p := writeIndex(t, userNames(40), 2)
	if err := p.Verify(); err != nil || !p.Checked() {
		t.Errorf("good index: Verify = %v, Checked %v; want nil, true", err, p.Checked())
	}
}

// toVersion1 rewrites a version 2 index as version 1 wrote it: no
// checksums in the header, records without their CRC.
func toVersion1(data []byte) []byte {
	l := layoutOf(data)
	out := append([]byte(nil), data[:l.offsets]...)
	binary.LittleEndian.PutUint32(out[8:], 1)
	clear(out[48:64])
	var blob []byte
	offs := binary.LittleEndian.AppendUint64(nil, 0)
	for a := range l.m {
		s, e := binary.LittleEndian.Uint64(data[l.offsets+8*a:]), binary.LittleEndian.Uint64(data[l.offsets+8*a+8:])
		blob = append(blob, data[l.blob+int64(s):l.blob+int64(e)-4]...)
		offs = binary.LittleEndian.AppendUint64(offs, uint64(len(blob)))
	}
	binary.LittleEndian.PutUint64(out[32:], uint64(len(blob)))
	return append(append(out, offs...), blob...)
}

// TestIndexVersion1 reads an index written before the checksums: it
// loads, unchecked (Checked false), its records read as before, and
// Verify says it has nothing to check against.
func TestIndexVersion1(t *testing.T) {
	p2 := writeIndex(t, userNames(30), 3)
	good, err := os.ReadFile(p2.path)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), IndexFile)
	if err := os.WriteFile(path, toVersion1(good), 0o644); err != nil {
		t.Fatal(err)
	}
	p1, err := Open(path)
	if err != nil {
		t.Fatalf("Open version 1: %v", err)
	}
	defer p1.Close()
	if p1.Checked() || p1.Accounts() != p2.Accounts() {
		t.Errorf("version 1: Checked %v, %d accounts; want false, %d", p1.Checked(), p1.Accounts(), p2.Accounts())
	}
	for a := range p2.Accounts() {
		n1, c1, _, err1 := p1.Credential(a, nil)
		n2, c2, _, err2 := p2.Credential(a, nil)
		if err1 != nil || err2 != nil || string(n1) != string(n2) || string(c1) != string(c2) {
			t.Fatalf("account %d: version 1 %s/%s (%v); version 2 %s/%s (%v)", a, n1, c1, err1, n2, c2, err2)
		}
	}
	if err := p1.Verify(); err == nil || !strings.Contains(err.Error(), "has no checksums (rebuild the pool)") {
		t.Errorf("Verify of version 1 = %v; want an error saying to rebuild", err)
	}
	// An unknown version is refused.
	data := toVersion1(good)
	binary.LittleEndian.PutUint32(data[8:], 3)
	os.WriteFile(path, data, 0o644)
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "index version 3; this surge reads 1 and 2 (rebuild the pool)") {
		t.Errorf("Open version 3 = %v; want it refused", err)
	}
}

// BenchmarkIndexOpen measures Open of a 200k-user index (one account
// each): the header and user table read (and checked: CRC-32C, version 2;
// unchecked: the same index as version 1), the lookup table built. MB/s
// is of the user table (12 bytes per user); the difference of the two is
// the checksum's cost.
func BenchmarkIndexOpen(b *testing.B) {
	p := writeIndex(b, userNames(200_000), 1)
	data, err := os.ReadFile(p.path)
	if err != nil {
		b.Fatal(err)
	}
	v1 := filepath.Join(b.TempDir(), IndexFile)
	if err := os.WriteFile(v1, toVersion1(data), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, path string }{{"checked", p.path}, {"unchecked", v1}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(p.offsets - indexHeader)
			b.ReportAllocs()
			for b.Loop() {
				q, err := Open(c.path)
				if err != nil {
					b.Fatal(err)
				}
				q.Close()
			}
		})
	}
}

// BenchmarkIndexVerify measures Verify (the whole file's CRC-32C, read
// 1 MiB at a time from the page cache) of the same index. MB/s is of the
// offsets and blob it reads.
func BenchmarkIndexVerify(b *testing.B) {
	p := writeIndex(b, userNames(200_000), 1)
	b.SetBytes(p.blob - p.offsets + p.blobLen)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Verify(); err != nil {
			b.Fatal(err)
		}
	}
}
