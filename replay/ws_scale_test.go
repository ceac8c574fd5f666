package replay

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/surge-replay/surge/internal/memstat"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// The WebSocket scale test and benchmarks run their target in a child
// process (this test binary again, as TestWSHelperServer), so that the
// memory and descriptors measured are the replay's alone.

// TestWSHelperServer is the child: with SURGE_WS_HELPER=1 it serves
// WebSocket connections on a loopback port (printed on stdout) that read
// and discard client messages, until its stdin closes. Otherwise it does
// nothing.
func TestWSHelperServer(t *testing.T) {
	if os.Getenv("SURGE_WS_HELPER") != "1" {
		return
	}
	raiseNoFile()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	})}
	go srv.Serve(ln)
	fmt.Printf("addr %s\n", ln.Addr())
	os.Stdout.Sync()
	bufio.NewReader(os.Stdin).ReadString('\n') // the parent closes stdin
	os.Exit(0)
}

// startWSHelper starts the child server and returns its URL.
func startWSHelper(tb testing.TB) *url.URL {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWSHelperServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SURGE_WS_HELPER=1")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { in.Close(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "addr ") {
		tb.Fatalf("helper server: %q, %v", line, err)
	}
	u, _ := url.Parse("http://" + strings.TrimSpace(strings.TrimPrefix(line, "addr ")))
	return u
}

// raiseNoFile raises the soft descriptor limit to the hard one and returns
// it.
func raiseNoFile() uint64 {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0
	}
	lim.Cur = lim.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	return lim.Cur
}

// wsLoad is n connections opened evenly over open, each sending k messages
// step apart from +first, then closing at +life.
func wsLoad(n, k int, open, first, step, life time.Duration) ([]shaper.Request, *FrameIndex) {
	x := NewFrameIndex()
	reqs := make([]shaper.Request, n)
	for i := range reqs {
		s := "s" + strconv.Itoa(i)
		for j := 0; j < k; j++ {
			x.Add(&schema.Frame{Time: t0.Add(first + time.Duration(j)*step), Conn: ConnID(s, 0), Direction: schema.FromClient,
				Opcode: schema.OpText, Payload: []byte(`{"op":"ping","n":` + strconv.Itoa(j) + `}`)})
		}
		x.Add(&schema.Frame{Time: t0.Add(life), Conn: ConnID(s, 0), Direction: schema.FromClient, Opcode: schema.OpClose, Payload: []byte{3, 232}})
		reqs[i] = shaper.Request{At: time.Duration(int64(open) * int64(i) / int64(n)), Session: s, VirtualSession: s, Exchange: wsUpgrade(s, "/feed/x")}
	}
	return reqs, x
}

// BenchmarkWSSendLateness1k replays 1,000 connections opened over 1 s,
// each sending 10 messages 100 ms apart (10,000 messages at up to 10,000/s),
// against a loopback server in another process, and reports the send
// lateness of the messages: p99-late-ms is the goal's measure (≤ 2 ms at 1k
// connections). One iteration is one such replay.
func BenchmarkWSSendLateness1k(b *testing.B) {
	raiseNoFile()
	u := startWSHelper(b)
	b.ReportAllocs()
	var p50, p99, max float64
	for i := 0; i < b.N; i++ {
		reqs, x := wsLoad(1000, 10, time.Second, 1200*time.Millisecond, 100*time.Millisecond, 2500*time.Millisecond)
		var opened int64
		st, err := Run(context.Background(), Config{Target: u, WebSocket: &WSConfig{Frames: x}}, &slice{reqs: reqs}, nil, func(r *schema.Result) {
			if r.Status == 101 {
				opened++
			}
		})
		if err != nil || opened != 1000 {
			b.Fatalf("Run = %v, %d opened; want 1000", err, opened)
		}
		h := st.WebSocket.Lateness()
		if h.TotalCount() != 10000 {
			b.Fatalf("%d messages measured; want 10000", h.TotalCount())
		}
		p50, p99, max = float64(h.ValueAtQuantile(50))/1e6, float64(h.ValueAtQuantile(99))/1e6, float64(h.Max())/1e6
	}
	b.ReportMetric(p50, "p50-late-ms")
	b.ReportMetric(p99, "p99-late-ms")
	b.ReportMetric(max, "max-late-ms")
}

// TestWSScale holds SURGE_WS_SCALE connections (20000 when set to 1) open
// at once from one replay, against a loopback server in another process,
// and measures the replay's memory per idle connection (Go heap and
// stacks in use, and RSS, at the plateau minus before the run). The
// descriptor limit is raised to its hard limit; where the hard limit is
// below the connections plus a margin, the count is cut to fit and the
// test says so. Run it with make bench or SURGE_WS_SCALE=1.
func TestWSScale(t *testing.T) {
	n := 0
	switch v := os.Getenv("SURGE_WS_SCALE"); v {
	case "":
		t.Skip("set SURGE_WS_SCALE=1 (20,000 connections) or a count; make bench runs it")
	case "1":
		n = 20000
	default:
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("SURGE_WS_SCALE=%q: want 1 or a count", v)
		}
	}
	limit := raiseNoFile()
	if margin := uint64(64); limit > 0 && uint64(n)+margin > limit {
		t.Logf("descriptor hard limit %d: %d connections cut to %d", limit, n, limit-margin)
		n = int(limit - margin)
	}
	u := startWSHelper(t)
	// Open over 10 s (2,000 a second), one message at +12 s, close at
	// +35 s: all are open together from 10 s (plus the stragglers a full
	// accept queue delays by SYN retries) to 35 s. Memory is read at 28 s.
	reqs, x := wsLoad(n, 1, 10*time.Second, 12*time.Second, time.Second, 35*time.Second)
	conns := NewWSConns()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rssBefore := memstat.RSS()
	var plateau runtime.MemStats
	var rssPlateau int64
	var live, peak int
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		at := time.NewTimer(28 * time.Second)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				peak = max(peak, conns.Live())
			case <-at.C:
				live = conns.Live()
				runtime.GC()
				runtime.ReadMemStats(&plateau)
				rssPlateau = memstat.RSS()
			}
		}
	}()
	start := time.Now()
	var opened, failed int64
	var slow int // handshakes over 1 s (SYN retries of a full accept queue)
	errs := map[string]int{}
	st, err := Run(context.Background(), Config{Target: u, MaxLateness: -1, WebSocket: &WSConfig{Frames: x, Conns: conns}}, &slice{reqs: reqs}, nil, func(r *schema.Result) {
		if r.Status == 101 {
			opened++
			if r.LatencyNS > int64(time.Second) {
				slow++
			}
		} else {
			failed++
			errs[r.Error+" "+r.Detail]++
		}
	})
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d connections: %d opened (%d handshakes over 1 s), %d failed %v; live at 28 s %d, peak %d; run %s",
		n, opened, slow, failed, errs, live, peak, time.Since(start).Round(time.Millisecond))
	heap := int64(plateau.HeapInuse+plateau.StackInuse) - int64(before.HeapInuse+before.StackInuse)
	t.Logf("memory per idle connection: %.1f KiB Go heap+stacks (%d MiB in all for %d), %.1f KiB RSS; messages sent %d",
		float64(heap)/float64(max(live, 1))/1024, heap>>20, live, float64(rssPlateau-rssBefore)/float64(max(live, 1))/1024, st.WebSocket.Lateness().TotalCount())
	if opened != int64(n) || live != n {
		t.Fatalf("opened %d, live at 28 s %d; want all %d open at once", opened, live, n)
	}
}
