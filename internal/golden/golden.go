// Package golden compares test output with golden files under testdata/, and
// rewrites them when the test binary runs with -update:
//
//	go test ./capture -run Golden -update
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/ instead of comparing with them")

// Check compares got with the golden file at path, or writes got there when
// -update is set.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (check it, then go test -update accepts it):\n%s", path, lineDiff(want, got))
	}
}

// lineDiff lists the first lines where want and got differ.
func lineDiff(want, got []byte) string {
	w, g := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	var out bytes.Buffer
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b []byte
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if bytes.Equal(a, b) {
			continue
		}
		if shown++; shown > 5 {
			out.WriteString("...\n")
			break
		}
		out.WriteString("line " + strconv.Itoa(i+1) + ":\n- ")
		out.Write(a)
		out.WriteString("\n+ ")
		out.Write(b)
		out.WriteString("\n")
	}
	return out.String()
}
