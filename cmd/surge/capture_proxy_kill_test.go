package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// proxyProc is surge capture proxy as a process of its own.
type proxyProc struct {
	cmd        *exec.Cmd
	url, admin string
	stderr     syncBuffer
}

func startProxyProc(t *testing.T, bin string, args ...string) *proxyProc {
	t.Helper()
	listen, admin := freeAddr(t), freeAddr(t)
	p := &proxyProc{url: "http://" + listen, admin: "http://" + admin}
	p.cmd = exec.Command(bin, append([]string{"capture", "proxy", "--listen", listen, "--admin", admin}, args...)...)
	p.cmd.Env = append(os.Environ(), "SURGE_SCRUB_KEY=test-key")
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.admin + "/healthz")
		if err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("proxy not up: %v\n%s", err, &p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proxyProc) send(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		resp, err := http.Get(p.url + "/k/" + string(rune('a'+i%26)))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func (p *proxyProc) signal(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	p.cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("proxy still running a minute after %v\n%s", sig, &p.stderr)
		return nil
	}
}

// logged reports whether the running proxy's stderr says want within 10 s.
// The process writes its start-up lines before it answers /healthz, but they
// reach the test through a pipe and exec's copying goroutine, so a line can
// arrive after the answer (CI saw "recovered" without the "removed" after it).
func (p *proxyProc) logged(want string) bool {
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.stderr.String(), want) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// hidden returns the hidden temporary files under dir.
func hidden(dir string) []string {
	var found []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), ".") && strings.Contains(d.Name(), ".tmp-") {
			found = append(found, path)
		}
		return nil
	})
	return found
}

// walRecords counts the whole records in the write-ahead segments under
// dir (4-byte length, 4-byte CRC, payload; eventlog/rolling_wal.go).
func walRecords(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(d.Name(), ".wal") {
			return nil
		}
		b, _ := os.ReadFile(path)
		for len(b) >= 8 {
			size := int(binary.LittleEndian.Uint32(b))
			if len(b) < 8+size {
				break
			}
			b = b[8+size:]
			n++
		}
		return nil
	})
	return n
}

// TestCaptureProxyKillAndTerm: SIGKILL of a proxy whose only part is open
// (--roll-age 1h) leaves no file a reader sees; the next start recovers
// every event the killed process had flushed from its write-ahead segment,
// says how many, and removes the temporary file. SIGTERM then writes every
// event of the requests answered and exits 0.
func TestCaptureProxyKillAndTerm(t *testing.T) {
	bin := buildBinary(t, "surge", ".")
	dir := filepath.Join(t.TempDir(), "cap")
	args := []string{"--upstream", "", "-o", dir, "--roll-age", "1h", "--reorder-window", "10ms", "--flush-interval", "50ms"}
	upstream, _ := recordingTarget(t)
	args[1] = upstream.URL

	p := startProxyProc(t, bin, args...)
	const killed = 40
	p.send(t, killed)
	// Count-based: wait until the killed process has flushed every event
	// to its segment (each flush interval, 50 ms), however loaded the machine.
	deadline := time.Now().Add(30 * time.Second)
	for len(hidden(dir)) == 0 || walRecords(t, dir) < killed {
		if time.Now().After(deadline) {
			t.Fatalf("after 30s: %d temporary parts, %d events in write-ahead segments; want 1 and %d\n%s", len(hidden(dir)), walRecords(t, dir), killed, &p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.signal(t, syscall.SIGKILL)
	partial := hidden(dir)
	if len(partial) == 0 {
		t.Fatal("SIGKILL left no partial file: the test proves nothing")
	}
	if files, err := eventlog.Files([]string{dir}, eventlog.Range{}); err == nil {
		t.Errorf("readers see %v after SIGKILL; want no file (the only part was incomplete)", files)
	}

	p = startProxyProc(t, bin, args...)
	for _, f := range partial {
		if !p.logged("removed " + f) {
			t.Errorf("the restart does not say it removed %s:\n%s", f, &p.stderr)
		}
	}
	if want := fmt.Sprintf("recovered %d events (%d exchanges, 0 frames)", killed, killed); !p.logged(want) {
		t.Errorf("the restart does not say %q:\n%s", want, &p.stderr)
	}
	if left := hidden(dir); len(left) != 0 && left[0] == partial[0] {
		t.Errorf("partial files still there after the restart: %v", left)
	}
	const n = 30
	p.send(t, n)
	if err := p.signal(t, syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v; want 0\n%s", err, &p.stderr)
	}
	if left := hidden(dir); len(left) != 0 {
		t.Errorf("temporary files left after SIGTERM: %v", left)
	}
	if n := walRecords(t, dir); n != 0 {
		t.Errorf("%d events in write-ahead segments after SIGTERM; want the segments removed", n)
	}
	got, err := eventlog.Open[schema.Exchange]([]string{dir}, eventlog.Range{})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	count := 0
	for {
		if _, err := got.Next(); err != nil {
			break
		}
		count++
	}
	if count != killed+n {
		t.Errorf("read %d events after SIGTERM; want %d (%d recovered from the killed run, %d of the second)", count, killed+n, killed, n)
	}
	if !strings.Contains(p.stderr.String(), "30 exchanges and 0 frames recorded, 0 events dropped") {
		t.Errorf("stderr:\n%s", &p.stderr)
	}
}
