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
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
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
	port, err := freePorts(nodes)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, nodes: nodes, env: []string{
		"SURGE_KAFKA_PORT=" + strconv.Itoa(port),
		"SURGE_KAFKA_STATE=" + t.TempDir(),
		"SURGE_KAFKA_HEAP=384m",
	}}
	if c.Brokers, err = run(c.env, "up", "--brokers", strconv.Itoa(nodes)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = run(c.env, "down") })
	return c
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
// (+100, as kafka.sh uses) are free on 127.0.0.1 now.
func freePorts(n int) (int, error) {
	for try := 0; try < 50; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if p+n+100 > 65535 {
			continue
		}
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
