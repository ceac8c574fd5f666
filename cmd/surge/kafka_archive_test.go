package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog/kafkalog"
	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
)

// archiveProc is a surge kafka archive subprocess.
type archiveProc struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	start          time.Time
}

func startArchive(t *testing.T, bin string, a kafkalog.Addr, dir, group string, extra ...string) *archiveProc {
	t.Helper()
	args := append([]string{"kafka", "archive", "--brokers", strings.Join(a.Brokers, ","), "--topic", a.Topic,
		"--out", dir, "--group", group}, extra...)
	p := &archiveProc{cmd: exec.Command(bin, args...)}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// stop sends sig and waits for the process, failing the test unless it
// exits 0 (for SIGTERM) within a minute.
func (p *archiveProc) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if sig == syscall.SIGTERM && err != nil {
			t.Fatalf("archive after SIGTERM: %v; want exit 0\nstdout:\n%s\nstderr:\n%s", err, &p.stdout, &p.stderr)
		}
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		t.Fatalf("archive still running a minute after %v\nstderr:\n%s", sig, &p.stderr)
	}
}

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// buildBinary builds pkg as name (without -race, whatever the test runs
// with).
func buildBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// testEvents runs the testevents tool (kafkatest/testevents): produce or
// check events from..from+n-1 of kafkatest.Event at full speed.
func testEvents(t *testing.T, tool, command, target string, from, n int) {
	t.Helper()
	out, err := exec.Command(tool, command, target, strconv.Itoa(from), strconv.Itoa(n)).CombinedOutput()
	if err != nil {
		t.Fatalf("testevents %s %s: %v\n%s", command, target, err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
}

// inspectEvents returns the events surge inspect counts in dir.
func inspectEvents(t *testing.T, bin, dir string) int64 {
	t.Helper()
	out, err := exec.Command(bin, "inspect", dir, "--json").Output()
	if err != nil {
		t.Fatalf("surge inspect %s: %v", dir, err)
	}
	var s struct{ Events int64 }
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("surge inspect --json: %v", err)
	}
	return s.Events
}

// waitStaged waits until a file is being written under dir (records are
// consumed).
func waitStaged(t *testing.T, dir string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		staged, _ := filepath.Glob(filepath.Join(dir, "*", "*", ".*.staged*"))
		if len(staged) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing consumed into %s after %s", dir, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func committedSum(t *testing.T, a kafkalog.Addr, group string) (sum int64, lag int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	committed, end, err := kafkalog.GroupOffsets(ctx, a, group)
	if err != nil {
		t.Fatal(err)
	}
	for p, e := range end {
		c := max(committed[p], 0)
		sum += c
		lag += e - c
	}
	return sum, lag
}

// TestKafkaArchiveMillion archives a million events of a 12-partition
// topic with the surge binary: once straight through (throughput measured,
// SIGTERM exits 0 with everything committed, surge inspect reads the
// directory); once killed with SIGKILL mid-way (a third committed) and
// restarted; once stopped with SIGTERM before any flush and restarted. Each
// time the directory holds every event exactly once.
func TestKafkaArchiveMillion(t *testing.T) {
	const n = 1_000_000
	brokers := kafkatest.Brokers(t)
	bin := buildBinary(t, "surge", ".")
	tool := buildBinary(t, "testevents", "../../eventlog/kafkalog/kafkatest/testevents")
	addr := kafkatest.Topic(t, brokers, 12, "")
	testEvents(t, tool, "produce", addr.String(), 0, n)

	t.Run("straight", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "archive")
		group := "straight-" + addr.Topic
		p := startArchive(t, bin, addr, dir, group, "--flush-interval", "1s")
		kafkatest.WaitCommitted(t, addr, group, 2*time.Minute)
		took := time.Since(p.start)
		p.stop(t, syscall.SIGTERM)
		cpu := p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
		t.Logf("archived and committed %d events in %s: %.0f events/s (process start to last commit, group join included); CPU %s: %.0f events per CPU second",
			n, took.Round(time.Millisecond), n/took.Seconds(), cpu.Round(time.Millisecond), n/cpu.Seconds())
		if !strings.Contains(p.stdout.String(), "archived 1000000 events") {
			t.Errorf("stdout = %q; want archived 1000000 events", &p.stdout)
		}
		testEvents(t, tool, "check", dir, 0, n)
		t.Logf("%s", strings.TrimSpace(p.stdout.String()))

		if got := inspectEvents(t, bin, dir); got != n {
			t.Errorf("surge inspect: %d events; want %d", got, n)
		}
	})

	t.Run("sigkill", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "archive")
		group := "sigkill-" + addr.Topic
		p := startArchive(t, bin, addr, dir, group, "--flush-events", "20000", "--flush-interval", "1s")
		// Mid-way: a third of the events committed (files renamed into
		// place, offsets committed after them), the rest not.
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if done, _ := committedSum(t, addr, group); done >= n/3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a third of the events not committed after 2 minutes\nstderr:\n%s", &p.stderr)
			}
			time.Sleep(20 * time.Millisecond)
		}
		p.stop(t, syscall.SIGKILL)
		done, lag := committedSum(t, addr, group)
		t.Logf("killed with %d events committed, %d not", done, lag)
		if lag == 0 {
			t.Fatalf("the archiver finished before the kill; nothing tested")
		}
		q := startArchive(t, bin, addr, dir, group, "--flush-events", "20000", "--flush-interval", "1s")
		kafkatest.WaitCommitted(t, addr, group, 2*time.Minute)
		q.stop(t, syscall.SIGTERM)
		for _, line := range strings.Split(q.stderr.String(), "\n") {
			if strings.Contains(line, "not committed") || strings.Contains(line, "unfinished") {
				t.Logf("restart: %s", line)
			}
		}
		testEvents(t, tool, "check", dir, 0, n)
	})

	t.Run("sigterm", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "archive")
		group := "sigterm-" + addr.Topic
		// No flush but the one SIGTERM makes.
		p := startArchive(t, bin, addr, dir, group, "--flush-interval", "1h")
		waitStaged(t, dir, time.Minute)
		time.Sleep(500 * time.Millisecond)
		p.stop(t, syscall.SIGTERM)
		done, lag := committedSum(t, addr, group)
		t.Logf("SIGTERM after %d events consumed (%d left)", done, lag)
		if done == 0 {
			t.Fatalf("nothing committed at SIGTERM\nstderr:\n%s", &p.stderr)
		}
		// What was committed is what is archived; the restart below finds
		// no event twice.
		if got := inspectEvents(t, bin, dir); got != done {
			t.Errorf("surge inspect: %d events after SIGTERM; want %d (the committed offsets)", got, done)
		}
		q := startArchive(t, bin, addr, dir, group, "--flush-interval", "1s")
		kafkatest.WaitCommitted(t, addr, group, 2*time.Minute)
		q.stop(t, syscall.SIGTERM)
		testEvents(t, tool, "check", dir, 0, n)
	})
}
