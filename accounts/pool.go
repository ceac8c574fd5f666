package accounts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"unsafe"
)

// Files of a pool directory.
const (
	ParquetFile = "accounts.parquet"
	IndexFile   = "index.bin"
	MetaFile    = "pool.json"
)

// Pool is a pool's index loaded for replay: the user hashes and account
// ranges in memory (12 bytes per recorded user, plus a lookup table of at
// most half a byte per user), the accounts' names and credentials left on
// disk and read per lease. Histories are not read at all.
//
// Lookup and Credential are safe for concurrent use; Close is not.
//
//	p, err := accounts.Open("pool/")
//	...
//	defer p.Close()
//	first, n := p.Lookup("u_3fa2…") // the user's accounts are first..first+n-1
type Pool struct {
	f        *os.File
	path     string
	hashes   []uint64 // sorted
	firsts   []uint32 // len(hashes)+1
	table    []uint32 // table[b] is the first index whose hash's top bits are ≥ b
	shift    uint     // 64 - table bits
	accounts int
	offsets  int64 // file offset of the offsets section
	blob     int64 // file offset of the blob
	blobLen  int64
	version  int
	sums     [3]uint32 // the header's CRC-32Cs of the user table, offsets, blob
}

// Open loads the index of the pool directory dir (or an index file). A
// missing, truncated or inconsistent index, or one whose header or user
// table does not match its CRC-32C, is an error naming the file and what
// failed. It reads the header and the user table (12 bytes per user), not
// the names and credentials: Credential checks each record it reads, and
// Verify checks the whole file.
func Open(dir string) (*Pool, error) {
	path := dir
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		path = filepath.Join(dir, IndexFile)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	p := &Pool{f: f, path: path}
	if err := p.load(); err != nil {
		f.Close()
		return nil, fmt.Errorf("accounts: %s: %w", path, err)
	}
	return p, nil
}

func (p *Pool) load() error {
	st, err := p.f.Stat()
	if err != nil {
		return err
	}
	var h [indexHeader]byte
	if _, err := p.f.ReadAt(h[:], 0); err != nil {
		return fmt.Errorf("header: %w (not a pool index?)", err)
	}
	if string(h[:8]) != indexMagic {
		return errors.New("not a pool index (bad magic)")
	}
	switch v := binary.LittleEndian.Uint32(h[8:]); v {
	case indexVersion:
		if got, want := crc32.Checksum(h[:60], castagnoli), binary.LittleEndian.Uint32(h[60:]); got != want {
			return fmt.Errorf("header (bytes 0..63): CRC-32C %08x, stored %08x: the index is corrupt (rebuild the pool)", got, want)
		}
		for i := range p.sums {
			p.sums[i] = binary.LittleEndian.Uint32(h[48+4*i:])
		}
	case 1: // no checksums: read unchecked (Checked)
	default:
		return fmt.Errorf("index version %d; this surge reads 1 and %d (rebuild the pool)", v, indexVersion)
	}
	p.version = int(binary.LittleEndian.Uint32(h[8:]))
	if hv := binary.LittleEndian.Uint64(h[40:]); hv != hashUserHash {
		return fmt.Errorf("user hash %d unknown (rebuild the pool)", hv)
	}
	n, m, blobLen := binary.LittleEndian.Uint64(h[16:]), binary.LittleEndian.Uint64(h[24:]), binary.LittleEndian.Uint64(h[32:])
	if n > m || m >= 1<<32 || blobLen > 1<<48 {
		return fmt.Errorf("header: %d users, %d accounts, %d blob bytes: impossible", n, m, blobLen)
	}
	firstsLen := (n + 1) * 4
	firstsLen += firstsLen % 8
	p.offsets = int64(indexHeader + 8*n + firstsLen)
	p.blob = p.offsets + int64(8*(m+1))
	p.blobLen = int64(blobLen)
	if want := p.blob + p.blobLen; st.Size() != want {
		return fmt.Errorf("%d bytes; the header says %d (truncated or corrupt)", st.Size(), want)
	}
	p.accounts = int(m)
	p.hashes = make([]uint64, n)
	p.firsts = make([]uint32, n+1)
	crc, err := readWords(p.f, indexHeader, p.hashes, 0)
	if err != nil {
		return fmt.Errorf("hashes: %w", err)
	}
	if crc, err = readWords(p.f, int64(indexHeader+8*n), p.firsts, crc); err != nil {
		return fmt.Errorf("account ranges: %w", err)
	}
	if pad := p.offsets - int64(indexHeader+8*n+4*(n+1)); pad > 0 {
		var z [4]byte
		if _, err := p.f.ReadAt(z[:pad], p.offsets-pad); err != nil {
			return fmt.Errorf("account ranges: %w", err)
		}
		crc = crc32.Update(crc, castagnoli, z[:pad])
	}
	if p.version >= 2 && crc != p.sums[0] {
		return fmt.Errorf("user table (bytes %d..%d: user hashes and account ranges): CRC-32C %08x, stored %08x: the index is corrupt (rebuild the pool)",
			indexHeader, p.offsets-1, crc, p.sums[0])
	}
	for i := range p.hashes {
		if i > 0 && p.hashes[i] <= p.hashes[i-1] {
			return fmt.Errorf("user %d: hashes not increasing (corrupt)", i)
		}
		if p.firsts[i] >= p.firsts[i+1] {
			return fmt.Errorf("user %d: empty or reversed account range (corrupt)", i)
		}
	}
	if n > 0 && (p.firsts[0] != 0 || uint64(p.firsts[n]) != m) {
		return errors.New("account ranges do not cover the accounts (corrupt)")
	}
	p.buildTable()
	return nil
}

// readWords fills dst (of uint64 or uint32) with the little-endian words
// at off, in one read, and returns crc updated with the bytes read
// (CRC-32C).
func readWords[T uint64 | uint32](f *os.File, off int64, dst []T, crc uint32) (uint32, error) {
	if len(dst) == 0 {
		return crc, nil
	}
	size := int(unsafe.Sizeof(dst[0]))
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), len(dst)*size)
	if _, err := f.ReadAt(raw, off); err != nil {
		return crc, err
	}
	crc = crc32.Update(crc, castagnoli, raw)
	if !littleEndian {
		for i := range dst {
			if size == 8 {
				dst[i] = T(binary.LittleEndian.Uint64(raw[i*8:]))
			} else {
				dst[i] = T(binary.LittleEndian.Uint32(raw[i*4:]))
			}
		}
	}
	return crc, nil
}

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// buildTable makes the lookup table over the top bits of the hashes: about
// 8 users per slot, so a lookup is a binary search over a handful.
func (p *Pool) buildTable() {
	n := len(p.hashes)
	b := 0
	if n >= 16 {
		b = min(bits.Len(uint(n))-3, 26)
	}
	p.shift = uint(64 - b)
	p.table = make([]uint32, 1<<b+1)
	j := 0
	for slot := range 1 << b {
		for j < n && p.hashes[j]>>p.shift < uint64(slot) {
			j++
		}
		p.table[slot] = uint32(j)
	}
	p.table[1<<b] = uint32(n)
	if b == 0 {
		p.shift = 63 // unused: one slot
	}
}

// Accounts returns how many accounts the pool has.
func (p *Pool) Accounts() int { return p.accounts }

// Users returns how many recorded users (index entries) the pool has.
func (p *Pool) Users() int { return len(p.hashes) }

// Lookup returns the accounts of recorded user id user: the range first ≤
// a < first+n, n = 0 when the pool has none for it. It does not allocate.
func (p *Pool) Lookup(user string) (first, n int) {
	return p.LookupHash(UserHash(user))
}

// LookupHash is Lookup by the user's UserHash.
func (p *Pool) LookupHash(h uint64) (first, n int) {
	lo, hi := 0, len(p.hashes)
	if len(p.table) > 2 {
		s := h >> p.shift
		lo, hi = int(p.table[s]), int(p.table[s+1])
	}
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if p.hashes[mid] < h {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(p.hashes) && p.hashes[lo] == h {
		return int(p.firsts[lo]), int(p.firsts[lo+1] - p.firsts[lo])
	}
	return 0, 0
}

// Credential reads account a's name and credential from disk into buf
// (grown when short) and returns them as slices of it: no allocation when
// buf is large enough. A record that does not match its CRC-32C (index
// version 2) is an error naming the file, the account and the record's
// bytes: a damaged name or credential is never returned.
func (p *Pool) Credential(a int, buf []byte) (name, credential, out []byte, err error) {
	if a < 0 || a >= p.accounts {
		return nil, nil, buf, fmt.Errorf("accounts: account %d out of range (0..%d)", a, p.accounts-1)
	}
	var o [16]byte
	if _, err := p.f.ReadAt(o[:], p.offsets+int64(a)*8); err != nil {
		return nil, nil, buf, fmt.Errorf("accounts: %s: account %d: %w", p.path, a, err)
	}
	start, end := binary.LittleEndian.Uint64(o[:]), binary.LittleEndian.Uint64(o[8:])
	if start > end || int64(end) > p.blobLen {
		return nil, nil, buf, fmt.Errorf("accounts: %s: account %d: bad record offsets: the index is corrupt (rebuild the pool)", p.path, a)
	}
	size := int(end - start)
	if cap(buf) < size {
		buf = make([]byte, size, max(size, 2*cap(buf)))
	}
	rec := buf[:size]
	if _, err := p.f.ReadAt(rec, p.blob+int64(start)); err != nil && !(errors.Is(err, io.EOF) && size == 0) {
		return nil, nil, buf, fmt.Errorf("accounts: %s: account %d: %w", p.path, a, err)
	}
	if p.version >= 2 {
		if len(rec) < 4 {
			return nil, nil, buf, fmt.Errorf("accounts: %s: account %d: record of %d bytes, shorter than its CRC (the index is corrupt: rebuild the pool)", p.path, a, len(rec))
		}
		body := rec[:len(rec)-4]
		if got, want := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(rec[len(body):]); got != want {
			return nil, nil, buf, fmt.Errorf("accounts: %s: account %d: name and credential record (blob bytes %d..%d): CRC-32C %08x, stored %08x: the index is corrupt (rebuild the pool)",
				p.path, a, start, end-1, got, want)
		}
		rec = body
	}
	for i, c := range rec {
		if c == 0 {
			return rec[:i], rec[i+1:], buf, nil
		}
	}
	return nil, nil, buf, fmt.Errorf("accounts: %s: account %d: record without a separator: the index is corrupt (rebuild the pool)", p.path, a)
}

// Checked reports whether the index carries checksums (version 2 on): a
// version 1 index is read unchecked; rebuilding the pool adds them.
func (p *Pool) Checked() bool { return p.version >= 2 }

// Path returns the index file's path.
func (p *Pool) Path() string { return p.path }

// Verify reads the whole index and checks the CRC-32C of its offsets and
// of its names and credentials (the blob) against the header: an error
// names the file and the section that failed. Open already checked the header and the user table.
// It reads the file once, sequentially (1 MiB at a time); a version 1
// index has nothing to check against and is an error saying so.
func (p *Pool) Verify() error {
	if !p.Checked() {
		return fmt.Errorf("accounts: %s: index version %d has no checksums (rebuild the pool)", p.path, p.version)
	}
	buf := make([]byte, 1<<20)
	for i, sec := range []struct {
		name     string
		off, len int64
	}{{"account offsets", p.offsets, p.blob - p.offsets}, {"names and credentials (blob)", p.blob, p.blobLen}} {
		crc := crc32.New(castagnoli)
		if _, err := io.CopyBuffer(crc, io.NewSectionReader(p.f, sec.off, sec.len), buf); err != nil {
			return fmt.Errorf("accounts: %s: %s: %w", p.path, sec.name, err)
		}
		if got, want := crc.Sum32(), p.sums[1+i]; got != want {
			return fmt.Errorf("accounts: %s: %s (bytes %d..%d): CRC-32C %08x, stored %08x: the index is corrupt (rebuild the pool)",
				p.path, sec.name, sec.off, sec.off+sec.len-1, got, want)
		}
	}
	return nil
}

// Close closes the index file.
func (p *Pool) Close() error { return p.f.Close() }
