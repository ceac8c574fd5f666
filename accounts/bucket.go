package accounts

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"unsafe"
)

// The builder groups viewing events by user without holding them all: pass
// one appends each event to one of up to 1024 bucket files chosen by the
// top bits of its user's hash; pass two reads one bucket at a time, sorts it
// by (hash, user, time) and writes its users' accounts. Buckets in order are
// hashes in order, so the accounts come out in index order.

// view is one viewing event as the builder keeps it.
type view struct {
	hash     uint64
	time     int64 // Unix ns
	position int64 // ms
	user     string
	session  string
	content  string
	device   string
	region   string
}

// bucketWriter appends views to a bucket file.
type bucketWriter struct {
	f   *os.File
	w   *bufio.Writer
	n   int64
	buf []byte
}

func newBucketWriter(dir string, i int) (*bucketWriter, error) {
	f, err := os.Create(fmt.Sprintf("%s/bucket-%04d", dir, i))
	if err != nil {
		return nil, err
	}
	return &bucketWriter{f: f, w: bufio.NewWriterSize(f, 32<<10)}, nil
}

// put encodes v: hash and time as 8 bytes, position as a varint, then the
// strings, each a uvarint length and its bytes.
func (b *bucketWriter) put(v *view) error {
	p := b.buf[:0]
	p = binary.LittleEndian.AppendUint64(p, v.hash)
	p = binary.LittleEndian.AppendUint64(p, uint64(v.time))
	p = binary.AppendVarint(p, v.position)
	for _, s := range [...]string{v.user, v.session, v.content, v.device, v.region} {
		p = binary.AppendUvarint(p, uint64(len(s)))
		p = append(p, s...)
	}
	b.buf = p
	b.n++
	_, err := b.w.Write(p)
	return err
}

func (b *bucketWriter) close() error {
	if err := b.w.Flush(); err != nil {
		b.f.Close()
		return err
	}
	return b.f.Close()
}

// readBucket reads a bucket file back: the views' strings point into one
// arena (the file's bytes), which the views keep alive.
func readBucket(path string, dst []view) ([]view, error) {
	f, err := os.Open(path)
	if err != nil {
		return dst, err
	}
	defer f.Close()
	arena, err := io.ReadAll(f)
	if err != nil {
		return dst, err
	}
	for p := arena; len(p) > 0; {
		if len(p) < 17 {
			return dst, fmt.Errorf("%s: truncated record", path)
		}
		v := view{hash: binary.LittleEndian.Uint64(p), time: int64(binary.LittleEndian.Uint64(p[8:]))}
		p = p[16:]
		var k int
		if v.position, k = binary.Varint(p); k <= 0 {
			return dst, fmt.Errorf("%s: bad position", path)
		}
		p = p[k:]
		for _, s := range [...]*string{&v.user, &v.session, &v.content, &v.device, &v.region} {
			n, k := binary.Uvarint(p)
			if k <= 0 || uint64(len(p)-k) < n {
				return dst, fmt.Errorf("%s: truncated string", path)
			}
			if n > 0 {
				*s = unsafe.String(&p[k], int(n))
			}
			p = p[k+int(n):]
		}
		dst = append(dst, v)
	}
	return dst, nil
}
