package capture

import (
	"bytes"
	"testing"
)

// Strings from the arena keep their bytes while the arena fills new chunks
// and its source buffer is overwritten; long lines and empty ones work.
func TestLineArenaStrings(t *testing.T) {
	var a lineArena
	src := make([]byte, 0, lineChunk)
	var got, want []string
	for i := range 2000 {
		n := (i * 37) % 300 // 0 to 299 bytes: chunk ends fall mid-line
		if i%500 == 7 {
			n = lineChunk // a line longer than a quarter chunk
		}
		src = append(src[:0], bytes.Repeat([]byte{byte('a' + i%26)}, n)...)
		got = append(got, a.string(src))
		want = append(want, string(src))
		clear(src) // the reader's buffer is reused
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("string %d: %q...; want %q...", i, got[i][:min(10, len(got[i]))], want[i][:min(10, len(want[i]))])
		}
	}
	if s := a.string(nil); s != "" {
		t.Errorf("empty line: %q", s)
	}
}
