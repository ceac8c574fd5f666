package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surge-replay/surge/eventlog"
)

// TestCaptureProxyFailedStart: a start that fails (a taken port, a bad
// certificate) leaves the output as it was: no directory made, no
// _surge.json written into an existing one.
func TestCaptureProxyFailedStart(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cert := filepath.Join(t.TempDir(), "cert.pem")
	os.WriteFile(cert, []byte("not a certificate"), 0o644)
	existing := t.TempDir()
	for _, tc := range []struct {
		name string
		dir  string // "" for a directory that does not exist
		args []string
		want string
	}{
		// the listen port is taken, the output a new directory
		{"listen", "", []string{"--listen", taken.Addr().String()}, "--listen"},
		// the admin port is taken, the output an existing empty directory
		{"admin", existing, []string{"--admin", taken.Addr().String()}, "--admin"},
		// the certificate does not parse
		{"cert", "", []string{"--tls-cert", cert, "--tls-key", cert}, "--tls-cert"},
	} {
		dir := tc.dir
		if dir == "" {
			dir = filepath.Join(t.TempDir(), "cap")
		}
		args := append([]string{"capture", "proxy", "--upstream", "http://127.0.0.1:1", "-o", dir, "--listen", freeAddr(t), "--admin", freeAddr(t)}, tc.args...)
		_, _, err := surge(t, args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: capture proxy = %v; want an error naming %s", tc.name, err, tc.want)
		}
		if tc.dir == "" {
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s: the failed start made %s (%v)", tc.name, dir, err)
			}
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, eventlog.DatasetMeta)); !os.IsNotExist(err) {
			t.Errorf("%s: the failed start wrote %s (%v)", tc.name, eventlog.DatasetMeta, err)
		}
	}
}
