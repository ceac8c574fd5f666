package capture

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// lineReader reads lines with their position, in bounded memory: a line over
// MaxLine is skipped whole and reported, never buffered.
type lineReader struct {
	r    *bufio.Reader
	name string
	line int64 // number of the line last returned
	off  int64 // offset of the next line
	buf  []byte
}

// newLineReader reads the lines of r, an input named name. A UTF-8
// byte-order mark at its start is skipped and a UTF-16/32 input fails with
// an *EncodingError (see textStart).
func newLineReader(r io.Reader, name string) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), name: name}
}

// next returns the next line without its line ending and without NUL bytes
// at its start (see trimLineStart), and its position. The line is valid until the
// next call (it may be the reader's buffer). At the end it returns io.EOF; a line over
// MaxLine returns a *RecordError (and the reader moves past it).
func (lr *lineReader) next() ([]byte, Position, error) {
	if lr.line == 0 && lr.off == 0 {
		n, err := textStart(lr.r, lr.name)
		if err != nil {
			return nil, Position{File: lr.name}, err
		}
		lr.off = int64(n)
	}
	pos := Position{File: lr.name, Line: lr.line + 1, Offset: lr.off}
	lr.buf = lr.buf[:0]
	tooLong := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.off += int64(len(chunk))
		if err == nil && len(lr.buf) == 0 && !tooLong && len(chunk) <= MaxLine+2 {
			// The whole line is in the reader's buffer (most lines):
			// return it from there, without copying it.
			lr.line++
			line := bytes.TrimSuffix(chunk, []byte{'\n'})
			line = trimLineStart(bytes.TrimSuffix(line, []byte{'\r'}))
			return line[:len(line):len(line)], pos, nil // an append must not write into the reader's buffer
		}
		if !tooLong {
			if len(lr.buf)+len(chunk) > MaxLine+2 {
				tooLong, lr.buf = true, lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && err != io.EOF {
			return nil, pos, err
		}
		if len(chunk) == 0 && err == io.EOF && len(lr.buf) == 0 && !tooLong {
			return nil, pos, io.EOF
		}
		lr.line++
		if tooLong {
			return nil, pos, &RecordError{Pos: pos, Reason: fmt.Sprintf("%v: %d bytes, over the limit of %d KiB; skipped", ErrLineTooLong, lr.off-pos.Offset, MaxLine>>10)}
		}
		line := bytes.TrimSuffix(lr.buf, []byte{'\n'})
		return trimLineStart(bytes.TrimSuffix(line, []byte{'\r'})), pos, nil
	}
}
