package fleet

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog/kafkalog/kafkatest"
	"github.com/surge-replay/surge/schema"
)

// Knobs of BenchmarkFleetAgents (environment): the capture's rate and
// length, the cores the agents are pinned to, and BENCH_FLEET_PROFILE, a
// directory for the agents' CPU profiles.
var (
	benchRate     = envInt("BENCH_FLEET_RATE", 2000)     // requests/s of capture time
	benchSeconds  = envInt("BENCH_FLEET_SECONDS", 15)    // capture seconds
	benchCPUs     = envString("BENCH_FLEET_CPUS", "1")   // taskset list for the agents
	benchSessions = envInt("BENCH_FLEET_SESSIONS", 2000) // recorded sessions
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func envString(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// benchCapture is rate × seconds GETs evenly spaced, request i in session
// i mod sessions.
func benchCapture(rate, seconds, sessions int) []schema.Exchange {
	n := rate * seconds
	out := make([]schema.Exchange, n)
	for i := range out {
		s := i % sessions
		out[i] = schema.Exchange{
			Time: base.Add(time.Duration(i) * time.Second / time.Duration(rate)), Session: fmt.Sprintf("s_%05d", s),
			User: "u_" + strconv.Itoa(s), Seq: int32(i / sessions), Method: "GET", Scheme: "http", Host: "bench.test",
			Path: "/bench/" + strconv.Itoa(i%500), Protocol: schema.ProtoHTTP11, Source: "bench",
		}
	}
	return out
}

// cpuTime returns a process's user+system CPU time from /proc (clock ticks
// of 10 ms).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	// Fields after "pid (comm) ": state is 0, utime 11, stime 12.
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond, nil
}

// BenchmarkFleetAgents replays one capture topic (12 partitions, the
// shared broker) with 1, 2 and 3 `surge agent` processes, each at
// GOMAXPROCS 1, all pinned to the cores of BENCH_FLEET_CPUS (one
// core by default), against a loopback target in this process; it
// reports the agents' CPU per request (user+system, from /proc, over the
// run only), the requests per agent-CPU-second that gives, and the run's
// lateness p99. Run it alone, pinned apart from the agents:
//
//	taskset -c 0 go test -run '^$' -bench FleetAgents -benchtime 1x ./fleet
func BenchmarkFleetAgents(b *testing.B) {
	if testing.Short() {
		b.Skip("needs a Kafka broker and builds surge")
	}
	bin := buildSurgeB(b)
	brokers := kafkatest.Brokers(b)
	capture := kafkatest.Topic(b, brokers, 12, "")
	events := benchCapture(benchRate, benchSeconds, benchSessions)
	produce(b, capture, events)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	b.Cleanup(srv.Close)
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("agents=%d", n), func(b *testing.B) {
			for b.Loop() {
				benchFleetRun(b, bin, brokers, n, capture.String(), srv.URL, len(events))
			}
		})
	}
}

func benchFleetRun(b *testing.B, bin string, brokers []string, n int, capture, target string, events int) {
	tp := testTopics(b, brokers)
	var procs []*exec.Cmd
	var logs []string
	for i := 0; i < n; i++ {
		args := []string{"-c", benchCPUs, bin, "agent", "--brokers", strings.Join(brokers, ","),
			"--group", "bench", "--id", fmt.Sprintf("bench-%d", i), "--control-topic", tp.control(), "--results-topic", tp.results()}
		if dir := os.Getenv("BENCH_FLEET_PROFILE"); dir != "" {
			args = append(args, "--cpuprofile", filepath.Join(dir, fmt.Sprintf("agents%d-%d.pprof", n, i)))
		}
		cmd := exec.Command("taskset", args...)
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
		logf, err := os.Create(filepath.Join(b.TempDir(), fmt.Sprintf("agent-%d.log", i)))
		if err != nil {
			b.Fatal(err)
		}
		cmd.Stderr = logf
		logs = append(logs, logf.Name())
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		procs = append(procs, cmd)
	}
	defer func() {
		for _, p := range procs {
			_ = p.Process.Signal(syscall.SIGTERM)
			_ = p.Wait()
		}
	}()
	spec := &RunSpec{
		Run: fmt.Sprintf("bench-%d-%d", n, time.Now().UnixNano()), Capture: capture, WindowFrom: base, WindowTo: base.Add(time.Duration(benchSeconds) * time.Second),
		Ratio: 1, Speed: 1, Seed: 1, SpreadNS: -1, StartAt: time.Now().Add(6 * time.Second), Target: target,
		Late: LateSend, Conns: "shared", MaxConns: 64,
	}
	now := time.Now()
	if err := tp.Publish(context.Background(), Event{Run: spec.Run, Op: OpStart, Spec: spec, At: now, Issued: now}); err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Until(spec.StartAt))
	cpu0 := make([]time.Duration, n)
	for i, p := range procs {
		cpu0[i], _ = cpuTime(p.Process.Pid)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	fr, err := tp.Wait(ctx, spec.Run, 30*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	for i, p := range procs {
		c, err := cpuTime(p.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		cpu += c - cpu0[i]
	}
	s := fr.Summary
	if s.Sent != int64(events) {
		b.Errorf("%d agents sent %d of %d requests; warnings %q", n, s.Sent, events, fr.Warnings)
		for _, l := range logs {
			out, _ := os.ReadFile(l)
			b.Logf("%s:\n%s", l, out)
		}
	}
	perEvent := float64(cpu.Microseconds()) / float64(max(s.Sent, 1))
	b.ReportMetric(perEvent, "agent-CPU-µs/request")
	b.ReportMetric(1e6/perEvent, "requests/agent-CPU-s")
	b.ReportMetric(s.Lateness.P99, "lateness-p99-ms")
	b.ReportMetric(float64(s.Sent), "requests")
	fmt.Printf("fleet bench: %d agents: %d requests in %.1f s, agents' CPU %.2f s: %.1f µs/request (%.0f requests per agent-CPU-second), lateness p99 %.2f ms, verdict %s\n",
		n, s.Sent, s.DurationS, cpu.Seconds(), perEvent, 1e6/perEvent, s.Lateness.P99, s.Outcome)
}

// buildSurgeB is buildSurge for a benchmark.
func buildSurgeB(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "surge")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/surge-replay/surge/cmd/surge").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
