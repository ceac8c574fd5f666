package accounts

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unsafe"
)

// Accounts are leased exclusively: two rows of a credentials CSV with one
// account name, or one token, would let two live virtual users sign in as
// one staging account. Both the pool build (Build, through uniqueSpill) and
// replay's CSV (UniqueSet) refuse such a file with a DuplicateError.

// Fields a DuplicateError names.
const (
	DupAccount = "account"
	DupToken   = "token"
)

// DuplicateError reports a row of a credentials CSV whose account name or
// token repeats an earlier row's. Its text names the file, both lines and
// the repeated account name; a token is never printed.
type DuplicateError struct {
	File      string // the CSV, as named to the reader
	Line      int    // the repeating row's line (from 1, the header's)
	FirstLine int    // the earlier row's line
	Field     string // DupAccount or DupToken
	Account   string // the repeated account name (Field DupAccount)
}

func (e *DuplicateError) Error() string {
	what := fmt.Sprintf("account %q repeats line %d", e.Account, e.FirstLine)
	if e.Field == DupToken {
		what = fmt.Sprintf("the token repeats line %d's (tokens are not shown)", e.FirstLine)
	}
	return fmt.Sprintf("%s:%d: %s: every row must be a staging account of its own, or two virtual users would sign in as one", e.File, e.Line, what)
}

// UniqueSet finds the first row of a credentials CSV that repeats an
// earlier row's account name or token, keeping every name and token it is
// given (for a list held in memory anyway, as replay's --accounts CSV; Build
// keeps them on disk). Not safe for concurrent use.
type UniqueSet struct {
	file             string
	accounts, tokens map[string]int // value -> line
}

// NewUniqueSet returns an empty set for the CSV named file.
func NewUniqueSet(file string) *UniqueSet {
	return &UniqueSet{file: file, accounts: map[string]int{}, tokens: map[string]int{}}
}

// Add adds the row at line; a *DuplicateError if its account or token was
// added before (the account is checked first).
func (u *UniqueSet) Add(c Credential, line int) error {
	if first, ok := u.accounts[c.Account]; ok {
		return &DuplicateError{File: u.file, Line: line, FirstLine: first, Field: DupAccount, Account: c.Account}
	}
	if first, ok := u.tokens[c.Token]; ok {
		return &DuplicateError{File: u.file, Line: line, FirstLine: first, Field: DupToken}
	}
	u.accounts[c.Account], u.tokens[c.Token] = line, line
	return nil
}

// uniqueBuckets is how many files uniqueSpill spreads records over: one
// at a time is read back, so memory is about 1/256 of the records.
const uniqueBuckets = 256

// uniqueSpill is UniqueSet in bounded memory, for the millions of rows of
// a pool's credentials: each row adds two records (its account name, and a
// 128-bit keyed hash of its token: a false match needs about 2^64 rows) to
// one of uniqueBuckets files chosen by a hash of the value; find then
// sorts one file at a time and reports the repeat whose later line comes
// first in the CSV. Record: kind byte, uvarint line, uvarint length, value.
type uniqueSpill struct {
	file  string // the CSV's name, for errors
	dir   string
	seeds [2]maphash.Seed
	files [uniqueBuckets]*os.File
	ws    [uniqueBuckets]*bufio.Writer
	buf   []byte
}

const (
	kindAccount byte = iota
	kindToken
)

func newUniqueSpill(dir, file string) *uniqueSpill {
	return &uniqueSpill{file: file, dir: dir, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
}

// add records the row at line.
func (u *uniqueSpill) add(c Credential, line int) error {
	if err := u.put(kindAccount, line, c.Account, maphash.String(u.seeds[0], c.Account)); err != nil {
		return err
	}
	var key [16]byte
	h := maphash.String(u.seeds[0], c.Token)
	binary.LittleEndian.PutUint64(key[:], h)
	binary.LittleEndian.PutUint64(key[8:], maphash.String(u.seeds[1], c.Token))
	return u.put(kindToken, line, unsafe.String(&key[0], len(key)), h)
}

func (u *uniqueSpill) put(kind byte, line int, value string, h uint64) error {
	i := h >> 56 // uniqueBuckets = 256
	if u.ws[i] == nil {
		f, err := os.Create(filepath.Join(u.dir, fmt.Sprintf("unique-%03d", i)))
		if err != nil {
			return fmt.Errorf("accounts: %w", err)
		}
		u.files[i], u.ws[i] = f, bufio.NewWriterSize(f, 16<<10)
	}
	p := append(u.buf[:0], kind)
	p = binary.AppendUvarint(p, uint64(line))
	p = binary.AppendUvarint(p, uint64(len(value)))
	p = append(p, value...)
	u.buf = p
	if _, err := u.ws[i].Write(p); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	return nil
}

type uniqueRec struct {
	kind  byte
	line  int
	value string // points into the bucket's bytes
}

// find returns the repeat whose later row comes first in the CSV (a
// *DuplicateError), nil when there is none, or the error of reading the
// files back. The files are removed.
func (u *uniqueSpill) find(ctx context.Context) error {
	defer u.remove()
	var (
		first     *DuplicateError
		firstKind byte
		recs      []uniqueRec
	)
	for i, w := range u.ws {
		if w == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		name := u.files[i].Name()
		if err := errors.Join(w.Flush(), u.files[i].Close()); err != nil {
			return fmt.Errorf("accounts: %w", err)
		}
		u.files[i], u.ws[i] = nil, nil
		arena, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("accounts: %w", err)
		}
		os.Remove(name)
		if recs, err = readUnique(arena, recs[:0]); err != nil {
			return fmt.Errorf("accounts: %s: %w", name, err)
		}
		slices.SortFunc(recs, func(a, b uniqueRec) int {
			return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.value, b.value), cmp.Compare(a.line, b.line))
		})
		for j := 1; j < len(recs); j++ {
			a, b := &recs[j-1], &recs[j]
			if a.kind != b.kind || a.value != b.value {
				continue
			}
			// The repeat whose later row comes first; on one row, its
			// account before its token (as UniqueSet).
			if first != nil && cmp.Or(cmp.Compare(b.line, first.Line), cmp.Compare(b.kind, firstKind)) >= 0 {
				continue
			}
			first, firstKind = &DuplicateError{File: u.file, Line: b.line, FirstLine: a.line, Field: DupAccount}, b.kind
			if b.kind == kindToken {
				first.Field = DupToken
			} else {
				first.Account = strings.Clone(b.value) // the arena goes
			}
		}
		clear(recs)
	}
	if first != nil {
		return first
	}
	return nil
}

func readUnique(p []byte, dst []uniqueRec) ([]uniqueRec, error) {
	for len(p) > 0 {
		r := uniqueRec{kind: p[0]}
		line, k := binary.Uvarint(p[1:])
		if k <= 0 {
			return dst, errors.New("bad record")
		}
		p = p[1+k:]
		n, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < n {
			return dst, errors.New("truncated record")
		}
		r.line = int(line)
		if n > 0 {
			r.value = unsafe.String(&p[k], int(n))
		}
		p = p[k+int(n):]
		dst = append(dst, r)
	}
	return dst, nil
}

// remove closes and removes the files; safe to call twice.
func (u *uniqueSpill) remove() {
	for i, f := range u.files {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
			u.files[i], u.ws[i] = nil, nil
		}
	}
}
