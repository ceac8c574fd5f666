package capture

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// EncodingError is an input that is not UTF-8 text: surge reads every
// format as UTF-8 (with or without a byte-order mark).
type EncodingError struct {
	File     string // the input's name
	Encoding string // "UTF-16LE", "UTF-16BE", "UTF-32LE" or "UTF-32BE"
	Mark     bool   // the file starts with that encoding's byte-order mark
}

func (e *EncodingError) Error() string {
	how := "by its byte-order mark"
	if !e.Mark {
		how = "by its NUL bytes between characters"
	}
	return fmt.Sprintf("%s: the file is %s text (%s); surge reads UTF-8: convert it first, e.g. iconv -f %s -t UTF-8", e.File, e.Encoding, how, e.Encoding)
}

// utf8BOM is the UTF-8 byte-order mark, U+FEFF encoded: Windows tools
// (Notepad, Fiddler, some log shippers) start files with it.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// textStart moves br (the start of an input named name) past a UTF-8
// byte-order mark and returns how many bytes that was (0 or 3), for
// offsets. A UTF-16 or UTF-32 input, told by its byte-order mark or by the
// NUL bytes ASCII text has between characters in it, is an *EncodingError.
func textStart(br *bufio.Reader, name string) (skipped int, err error) {
	head, _ := br.Peek(4)
	if bytes.HasPrefix(head, utf8BOM) {
		br.Discard(len(utf8BOM))
		return len(utf8BOM), nil
	}
	if enc, mark := wideEncoding(head); enc != "" {
		return 0, &EncodingError{File: name, Encoding: enc, Mark: mark}
	}
	return 0, nil
}

// textInput is a reader that checks its start with textStart on its first
// read (not before: a decoder is made before it is used).
type textInput struct {
	r       *bufio.Reader
	name    string
	started bool
	skipped int
	err     error
}

func newTextInput(r io.Reader, name string) *textInput {
	return &textInput{r: bufio.NewReaderSize(r, 64<<10), name: name}
}

func (t *textInput) Read(p []byte) (int, error) {
	if !t.started {
		t.started = true
		t.skipped, t.err = textStart(t.r, t.name)
	}
	if t.err != nil {
		return 0, t.err
	}
	return t.r.Read(p)
}

// wideEncoding names the UTF-16/32 encoding that head (the first four bytes
// of an input) starts in, or "". Without a mark it needs two printable ASCII
// characters each with NUL bytes beside it: a copytruncate rotation's run
// of NULs is not mistaken for UTF-16.
func wideEncoding(head []byte) (enc string, mark bool) {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE, 0, 0}):
		return "UTF-32LE", true
	case bytes.HasPrefix(head, []byte{0, 0, 0xFE, 0xFF}):
		return "UTF-32BE", true
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return "UTF-16LE", true
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return "UTF-16BE", true
	case len(head) < 4:
		return "", false
	case printableASCII(head[0]) && head[1] == 0 && printableASCII(head[2]) && head[3] == 0:
		return "UTF-16LE", false
	case head[0] == 0 && printableASCII(head[1]) && head[2] == 0 && printableASCII(head[3]):
		return "UTF-16BE", false
	}
	return "", false
}

func printableASCII(c byte) bool { return c >= 0x20 && c < 0x7f || c == '\t' || c == '\n' || c == '\r' }

// failingReader is a reader that always fails with err.
type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

// trimLineStart cuts the NUL bytes and a UTF-8 byte-order mark at the
// start of a line: a copytruncate rotation leaves the truncated file's old
// length as a run of NULs (a sparse hole) before the first line written
// after it, and files concatenated (cat a.log b.log) leave the second
// file's mark at the start of a line.
func trimLineStart(line []byte) []byte {
	for len(line) > 0 && line[0] == 0 {
		line = line[1:]
	}
	return bytes.TrimPrefix(line, utf8BOM)
}
