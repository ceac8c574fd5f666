package capture

import "unsafe"

// lineArena makes strings of lines by copying them into shared chunks: one
// allocation per chunk instead of one per line, and a window of lines
// packed together in memory (the pipeline reads them again a window of
// records later, when they have left the CPU's cache).
//
// A string from it keeps its whole chunk alive: what outlives its record
// (a cache key) must be a copy (strings.Clone), as it already had to be
// not to keep its line alive.
type lineArena struct {
	buf []byte
}

// lineChunk is the size of a chunk: about 70 access-log lines, and what
// one string kept too long holds at most.
const lineChunk = 16 << 10

// string returns a string holding b's bytes. The arena never writes them
// again.
func (a *lineArena) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > lineChunk/4 {
		return string(b)
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		a.buf = make([]byte, 0, lineChunk)
	}
	n := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[n], len(b))
}
