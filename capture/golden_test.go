package capture

import (
	"testing"

	"github.com/surge-replay/surge/internal/golden"
)

// checkGolden compares got with the golden file at path (go test -update
// rewrites it).
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	golden.Check(t, path, got)
}
