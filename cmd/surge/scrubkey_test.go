package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// freshMachine points the user config directory at a temp dir and clears
// any key from the environment.
func freshMachine(t *testing.T) (keyPath string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("SURGE_SCRUB_KEY", "")
	return filepath.Join(home, ".config", "surge", "scrub.key")
}

const oneLine = "192.0.2.1 - alice [21/Nov/2026:19:45:00 +0000] \"GET /a?user=bob HTTP/1.1\" 200 5 \"-\" \"curl/8\"\n"

func importOne(t *testing.T, extra ...string) (stderr, events string) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "a.log")
	os.WriteFile(in, []byte(oneLine), 0o644)
	out := filepath.Join(dir, "a.parquet")
	_, stderr, err := surge(t, append([]string{"import", "combined", in, "-o", out}, extra...)...)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	return stderr, eventsJSON(t, out)
}

// TestMachineScrubKey: the first import without a key makes one (0600 in a
// 0700 directory) and says so in one line; later imports use it silently and
// hash ids the same.
func TestMachineScrubKey(t *testing.T) {
	path := freshMachine(t)
	stderr, first := importOne(t)
	if strings.Count(stderr, "created one at "+path) != 1 {
		t.Errorf("stderr %q; want one line naming %s", stderr, path)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v, mode %v; want 0600", path, err, st.Mode())
	}
	if d, _ := os.Stat(filepath.Dir(path)); d.Mode().Perm() != 0o700 {
		t.Errorf("key directory mode %v; want 0700", d.Mode().Perm())
	}
	if b, _ := os.ReadFile(path); len(bytes.TrimSpace(b)) != 64 {
		t.Errorf("key file holds %q; want 64 hex digits (32 random bytes)", b)
	}
	stderr, second := importOne(t)
	if strings.Contains(stderr, "created") || second != first {
		t.Errorf("second import: stderr %q, events equal %v; want silent, same hashes", stderr, second == first)
	}
	// A key from the environment wins over the file.
	t.Setenv("SURGE_SCRUB_KEY", "team-key")
	if _, env := importOne(t); env == first {
		t.Errorf("SURGE_SCRUB_KEY did not win over the machine key")
	}
}

// TestMachineScrubKeyRace: imports starting at once end with one key.
func TestMachineScrubKeyRace(t *testing.T) {
	freshMachine(t)
	keys := make([]string, 4)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, _, _, err := machineScrubKey()
			if err != nil {
				t.Error(err)
			}
			keys[i] = string(k)
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if k != keys[0] || len(k) != 64 {
			t.Fatalf("keys %q; want one 64-digit key", keys)
		}
	}
}

// TestMachineScrubKeyBad: a bad or empty key file is an error naming it.
func TestMachineScrubKeyBad(t *testing.T) {
	for _, content := range []string{"", "not hex\n", strings.Repeat("a", 63)} {
		path := freshMachine(t)
		os.MkdirAll(filepath.Dir(path), 0o700)
		os.WriteFile(path, []byte(content), 0o600)
		_, _, err := surge(t, "import", "combined", fieldCases+"nginx-token-query-truncated-line.log", "-o", filepath.Join(t.TempDir(), "x.parquet"))
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("key file %q: %v; want an error naming %s", content, err, path)
		}
	}
}
