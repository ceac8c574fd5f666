package accounts

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The index file (index.bin) of a pool, little-endian, fixed-width so that
// replay loads it with a few reads and looks users up without parsing:
//
//	offset 0   magic "SURGEIDX", version u32 (2), flags u32 (0)
//	       16  users n u64, accounts m u64, blob length u64, hash u64 (1: UserHash)
//	       48  CRC-32C u32 of the user table (hashes and firsts, with the padding)
//	       52  CRC-32C u32 of the offsets
//	       56  CRC-32C u32 of the blob
//	       60  CRC-32C u32 of the header's bytes 0..59
//	       64  hashes   [n]u64   user hashes, strictly increasing
//	           firsts   [n+1]u32 user i's accounts are firsts[i] ≤ a < firsts[i+1]
//	           zero up to a multiple of 8
//	           offsets  [m+1]u64 account a's record is blob[offsets[a]:offsets[a+1]]
//	           blob     records: account name, a 0 byte, credential, and the
//	                    CRC-32C u32 of those bytes
//
// Accounts are numbered in index order: the rows of accounts.parquet in
// file order. CRC-32C is CRC-32 with the Castagnoli polynomial (RFC 3720
// §B.4, hash/crc32.Castagnoli). Open checks the header and the user table
// (the part it loads); Credential checks each record it reads, so a damaged
// name or credential is never sent; Verify checks every byte.
//
// Version 1 (before the checksums) has zeros at 48..63 and records without
// a CRC; it is still read, unchecked (Pool.Checked is false).
const (
	indexMagic   = "SURGEIDX"
	indexVersion = 2
	indexHeader  = 64
	hashUserHash = 1
)

// castagnoli is the CRC-32C table of the index's checksums.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// IndexWriter writes a pool's index file, streaming: the sections go to
// temporary files beside it, joined at Close. Users are added in increasing
// hash order, each followed by its accounts. Not safe for concurrent use.
type IndexWriter struct {
	path     string
	hashes   *spool
	firsts   *spool
	offsets  *spool
	blob     *spool
	users    int64
	accounts int64
	blobLen  uint64
	cur      uint64 // hash of the user being added
	rec      []byte // the record being added
	curFirst int64  // its first account; -1 before the first user
	started  bool
	// Collisions counts users whose hash equals the previous user's: they
	// share its index entry.
	Collisions int64
}

// spool is a buffered temporary file.
type spool struct {
	f *os.File
	w *bufio.Writer
}

func newSpool(dir, name string) (*spool, error) {
	f, err := os.CreateTemp(dir, "."+name+"-*")
	if err != nil {
		return nil, err
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (s *spool) remove() {
	if s != nil {
		s.f.Close()
		os.Remove(s.f.Name())
	}
}

// NewIndexWriter starts the index file at path (written aside and renamed
// at Close).
func NewIndexWriter(path string) (*IndexWriter, error) {
	w := &IndexWriter{path: path, curFirst: -1}
	dir := filepath.Dir(path)
	var err error
	for _, s := range []struct {
		p    **spool
		name string
	}{{&w.hashes, "hashes"}, {&w.firsts, "firsts"}, {&w.offsets, "offsets"}, {&w.blob, "blob"}} {
		if *s.p, err = newSpool(dir, s.name); err != nil {
			w.Abort()
			return nil, fmt.Errorf("accounts: index: %w", err)
		}
	}
	return w, w.putOffset()
}

func (w *IndexWriter) putOffset() error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], w.blobLen)
	_, err := w.offsets.w.Write(b[:])
	return err
}

// AddUser starts the accounts of the user whose UserHash is hash. Hashes
// must not decrease; a hash equal to the previous one (two users, one hash)
// adds to the previous user's accounts and counts a collision. A user given
// no account is left out of the index.
func (w *IndexWriter) AddUser(hash uint64) error {
	if w.started && hash < w.cur {
		return fmt.Errorf("accounts: index: user hash %016x after %016x: users must come in hash order", hash, w.cur)
	}
	if w.started && hash == w.cur {
		w.Collisions++
		return nil
	}
	if err := w.endUser(); err != nil {
		return err
	}
	w.started, w.cur, w.curFirst = true, hash, w.accounts
	return nil
}

// endUser writes the entry of the user being added, if it has accounts.
func (w *IndexWriter) endUser() error {
	if !w.started || w.curFirst < 0 || w.accounts == w.curFirst {
		return nil
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], w.cur)
	if _, err := w.hashes.w.Write(b[:]); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b[:4], uint32(w.curFirst))
	_, err := w.firsts.w.Write(b[:4])
	w.users++
	return err
}

// AddAccount adds an account of the current user: its name and the
// credential replay presents for it. Neither may hold a 0 byte, CR or LF
// (a credential goes into a header).
func (w *IndexWriter) AddAccount(name, credential string) error {
	if !w.started {
		return errors.New("accounts: index: an account before any user")
	}
	if strings.ContainsAny(name, "\x00\r\n") || name == "" {
		return fmt.Errorf("accounts: account name %q: empty, or holds a 0 byte, CR or LF", name)
	}
	if strings.ContainsAny(credential, "\x00\r\n") || credential == "" {
		return fmt.Errorf("accounts: account %s: credential empty, or holds a 0 byte, CR or LF", name)
	}
	if w.accounts >= 1<<32-1 {
		return errors.New("accounts: index: more than 2^32-1 accounts")
	}
	w.rec = append(append(append(w.rec[:0], name...), 0), credential...)
	w.rec = binary.LittleEndian.AppendUint32(w.rec, crc32.Checksum(w.rec, castagnoli))
	if _, err := w.blob.w.Write(w.rec); err != nil {
		return err
	}
	w.blobLen += uint64(len(w.rec))
	w.accounts++
	return w.putOffset()
}

// Accounts returns how many accounts were added so far.
func (w *IndexWriter) Accounts() int64 { return w.accounts }

// Users returns how many index entries (users with accounts) were written
// so far, not counting the user being added.
func (w *IndexWriter) Users() int64 { return w.users }

// Close joins the sections into the index file.
func (w *IndexWriter) Close() error {
	defer w.Abort()
	if err := w.endUser(); err != nil {
		return fmt.Errorf("accounts: index: %w", err)
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:4], uint32(w.accounts))
	w.firsts.w.Write(b[:4])
	if (w.users+1)%2 == 1 {
		w.firsts.w.Write(make([]byte, 4)) // pad the section to 8 bytes
	}
	tmp, err := os.CreateTemp(filepath.Dir(w.path), ".index-*")
	if err != nil {
		return fmt.Errorf("accounts: index: %w", err)
	}
	defer os.Remove(tmp.Name())
	// The header goes first, its checksums last: written over the
	// placeholder once the sections were copied through their CRCs.
	out := bufio.NewWriterSize(tmp, 1<<20)
	var h [indexHeader]byte
	out.Write(h[:])
	table := crc32.New(castagnoli) // hashes and firsts
	for i, s := range []*spool{w.hashes, w.firsts, w.offsets, w.blob} {
		crc := table
		if i >= 2 {
			crc = crc32.New(castagnoli)
		}
		if err := s.w.Flush(); err != nil {
			tmp.Close()
			return fmt.Errorf("accounts: index: %w", err)
		}
		if _, err := s.f.Seek(0, io.SeekStart); err != nil {
			tmp.Close()
			return err
		}
		if _, err := io.Copy(io.MultiWriter(out, crc), s.f); err != nil {
			tmp.Close()
			return fmt.Errorf("accounts: index: %w", err)
		}
		if i >= 1 {
			binary.LittleEndian.PutUint32(h[44+4*i:], crc.Sum32()) // 48, 52, 56
		}
	}
	copy(h[:], indexMagic)
	binary.LittleEndian.PutUint32(h[8:], indexVersion)
	binary.LittleEndian.PutUint64(h[16:], uint64(w.users))
	binary.LittleEndian.PutUint64(h[24:], uint64(w.accounts))
	binary.LittleEndian.PutUint64(h[32:], w.blobLen)
	binary.LittleEndian.PutUint64(h[40:], hashUserHash)
	binary.LittleEndian.PutUint32(h[60:], crc32.Checksum(h[:60], castagnoli))
	if err := out.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("accounts: index %s: %w", w.path, err)
	}
	if _, err := tmp.WriteAt(h[:], 0); err != nil {
		tmp.Close()
		return fmt.Errorf("accounts: index %s: %w", w.path, err)
	}
	if err := errors.Join(out.Flush(), tmp.Chmod(0o644), tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("accounts: index %s: %w", w.path, err)
	}
	if err := os.Rename(tmp.Name(), w.path); err != nil {
		return fmt.Errorf("accounts: index: %w", err)
	}
	return nil
}

// Abort removes the temporary files; the index file is not written. It is
// safe after Close.
func (w *IndexWriter) Abort() {
	for _, s := range []*spool{w.hashes, w.firsts, w.offsets, w.blob} {
		s.remove()
	}
}
