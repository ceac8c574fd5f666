// Package kafkatest gives integration tests a real Apache Kafka broker,
// started through the project's own scripts/kafka.sh (official jars from
// Maven Central, KRaft, 127.0.0.1 only), and topics of their own on it.
//
// Brokers returns the shared broker (started once, left running for the
// next test run: starting one costs seconds). Private starts a cluster of
// the test's own in a temporary state directory, for tests that stop,
// restart or kill a broker; it is removed when the test ends.
//
// SURGE_KAFKA_BROKERS=HOST:PORT[,...] makes Brokers use that cluster instead
// of starting one. With -short, tests that need a broker are skipped.
package kafkatest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog/kafkalog"
)

var shared struct {
	once    sync.Once
	brokers []string
	err     error
}

// Script is the path of scripts/kafka.sh in this checkout.
func Script() string {
	_, file, _, _ := runtime.Caller(0)
	// eventlog/kafkalog/kafkatest/kafkatest.go → repository root.
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	return filepath.Join(root, "scripts", "kafka.sh")
}

// Brokers returns the bootstrap list of the shared broker, starting it
// through scripts/kafka.sh when it is not running. It fails the test when
// the broker cannot start, and skips it with -short.
func Brokers(t testing.TB) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Kafka broker; -short")
	}
	shared.once.Do(func() {
		if env := os.Getenv("SURGE_KAFKA_BROKERS"); env != "" {
			shared.brokers = strings.Split(env, ",")
			return
		}
		shared.brokers, shared.err = run(nil, "up")
	})
	if shared.err != nil {
		t.Fatalf("kafka broker: %v", shared.err)
	}
	return shared.brokers
}

// run runs scripts/kafka.sh with env added and returns the bootstrap list
// it prints (for up and restart).
func run(env []string, args ...string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{Script()}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("scripts/kafka.sh %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	lines := strings.Fields(strings.TrimSpace(out.String()))
	if len(lines) == 0 {
		return nil, nil
	}
	return strings.Split(lines[len(lines)-1], ","), nil
}

var unsafeTopic = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Topic returns an address of a fresh topic on brokers named after the test
// (with a random suffix), created with partitions partitions, and deleted
// when the test ends. query is added to the address (e.g. "format=json").
func Topic(t testing.TB, brokers []string, partitions int, query string) kafkalog.Addr {
	t.Helper()
	var b [4]byte
	rand.Read(b[:])
	name := unsafeTopic.ReplaceAllString(t.Name(), "_")
	if len(name) > 180 {
		name = name[:180]
	}
	name += "-" + hex.EncodeToString(b[:])
	s := fmt.Sprintf("kafka://%s/%s?partitions=%d", strings.Join(brokers, ","), name, partitions)
	if query != "" {
		s += "&" + query
	}
	a, err := kafkalog.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := kafkalog.EnsureTopic(ctx, a); err != nil {
		t.Fatalf("create topic %s: %v", a.Topic, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = kafkalog.DeleteTopic(ctx, a)
	})
	return a
}

// Cluster is a test's own Kafka cluster (see Private).
type Cluster struct {
	t       testing.TB
	env     []string
	state   string // kafka.sh's state directory
	nodes   int
	Brokers []string
}

// Private starts a cluster of nodes brokers (1 or 3) on free loopback ports
// with its state in a temporary directory; it is stopped and removed when
// the test ends. Use it to stop, restart or kill brokers without touching
// the shared one.
func Private(t testing.TB, nodes int) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Kafka broker; -short")
	}
	// The ports are free when chosen, but other processes may take one
	// before a broker binds it (an outgoing connection's local port: the
	// ports come from the ephemeral range); a node that cannot bind exits,
	// and the cluster starts again on other ports.
	var errs []error
	for attempt := 1; attempt <= 3; attempt++ {
		port, err := freePorts(nodes)
		if err != nil {
			t.Fatal(err)
		}
		c := &Cluster{t: t, nodes: nodes, state: t.TempDir()}
		c.env = []string{
			"SURGE_KAFKA_PORT=" + strconv.Itoa(port),
			"SURGE_KAFKA_STATE=" + c.state,
			"SURGE_KAFKA_HEAP=" + heap(nodes),
		}
		c.Brokers, err = run(c.env, "up", "--brokers", strconv.Itoa(nodes))
		if err == nil {
			t.Cleanup(func() { _, _ = run(c.env, "down") })
			return c
		}
		_, _ = run(c.env, "down")
		errs = append(errs, fmt.Errorf("attempt %d, ports from %d: %w", attempt, port, err))
	}
	t.Fatalf("private kafka cluster of %d: %v", nodes, errors.Join(errs...))
	return nil
}

// heap is each node's JVM heap: 384 MiB alone, 256 MiB in a cluster of
// three (about 1 GiB of RSS for the three on a shared test machine).
func heap(nodes int) string {
	if nodes > 1 {
		return "256m"
	}
	return "384m"
}

// Kill kills node (1..nodes) with SIGKILL, as a lost machine, and waits
// until it is gone. Start brings it back with its data.
func (c *Cluster) Kill(node int) {
	c.t.Helper()
	pidFile := filepath.Join(c.state, "node-"+strconv.Itoa(node), "pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		c.t.Fatalf("kill node %d: %v", node, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		c.t.Fatalf("kill node %d: pid file %s: %v", node, pidFile, err)
	}
	// The pid is the JVM kafka.sh started for this cluster (its own
	// state directory); kafka.sh checks the same before it signals.
	cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if !bytes.Contains(cmdline, []byte(c.state)) {
		c.t.Fatalf("kill node %d: pid %d is not this cluster's broker", node, pid)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		c.t.Fatalf("kill node %d (pid %d): %v", node, pid, err)
	}
	for deadline := time.Now().Add(30 * time.Second); alive(pid); {
		if time.Now().After(deadline) {
			c.t.Fatalf("node %d (pid %d) still there 30 s after SIGKILL", node, pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether pid runs: it exists and is not a zombie waiting
// for a parent to reap it.
func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// pid (comm) STATE ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// Stop stops every node (SIGTERM, as kafka.sh down).
func (c *Cluster) Stop() {
	c.t.Helper()
	if _, err := run(c.env, "down"); err != nil {
		c.t.Fatal(err)
	}
}

// Start starts the stopped nodes again with their data and waits until they
// answer.
func (c *Cluster) Start() {
	c.t.Helper()
	if _, err := run(c.env, "up", "--brokers", strconv.Itoa(c.nodes)); err != nil {
		c.t.Fatal(err)
	}
}

// Restart stops and starts every node.
func (c *Cluster) Restart() {
	c.t.Helper()
	c.Stop()
	c.Start()
}

// freePorts finds a port p such that p..p+n-1 and their controller ports
// (+100, as kafka.sh uses) are free on 127.0.0.1 now. It looks below the
// kernel's ephemeral range (Linux: 32768 and up), where outgoing
// connections take their local ports: on a machine running many tests,
// thousands of those (TIME_WAIT included) make a free run of ports there
// rare, and may take one between the check and the broker's bind.
func freePorts(n int) (int, error) {
	const lo, hi = 20000, 32768
	for try := 0; try < 200; try++ {
		p := lo + mrand.IntN(hi-lo-n-100)
		ok := true
		for i := 0; i < n && ok; i++ {
			for _, q := range []int{p + i, p + i + 100} {
				if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(q)); err != nil {
					ok = false
				} else {
					l.Close()
				}
			}
		}
		if ok {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free loopback ports for %d kafka nodes", n)
}
