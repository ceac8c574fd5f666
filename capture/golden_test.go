package capture

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// update rewrites the golden files under testdata/ instead of comparing
// against them: go test ./capture/ -run Golden -update
var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// checkGolden compares got with the golden file at path, or rewrites the file
// when -update is set.
func checkGolden(t *testing.T, path string, got []byte) {
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
		t.Errorf("output differs from %s (run go test -update to accept):\n%s", path, lineDiff(want, got))
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
		out.WriteString("line ")
		out.WriteString(strconv.Itoa(i + 1))
		out.WriteString(":\n- ")
		out.Write(a)
		out.WriteString("\n+ ")
		out.Write(b)
		out.WriteString("\n")
	}
	return out.String()
}
