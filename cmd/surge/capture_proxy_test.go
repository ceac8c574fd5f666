package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// runningProxy is surge capture proxy running in-process.
type runningProxy struct {
	url, admin string
	stderr     *syncBuffer
	cancel     context.CancelFunc
	done       chan error
}

// startProxy runs surge capture proxy with args (plus --listen and
// --admin, on freeAddr's ports) until stop, and waits until it serves.
func startProxy(t *testing.T, args ...string) *runningProxy {
	t.Helper()
	listen, admin := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	p := &runningProxy{url: "http://" + listen, admin: "http://" + admin, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	root := newRootCommand()
	root.SetArgs(append([]string{"capture", "proxy", "--listen", listen, "--admin", admin}, args...))
	root.SetOut(io.Discard)
	root.SetErr(p.stderr)
	go func() { p.done <- root.ExecuteContext(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(p.admin + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-p.done:
			t.Fatalf("proxy exited: %v\n%s", err, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("proxy not up: %v\n%s", err, p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop sends the proxy the equivalent of SIGTERM and waits for it to exit
// 0.
func (p *runningProxy) stop(t *testing.T) {
	t.Helper()
	if err := p.stopErr(t); err != nil {
		t.Errorf("proxy: %v\n%s", err, p.stderr)
	}
}

// stopErr stops the proxy and returns its error.
func (p *runningProxy) stopErr(t *testing.T) error {
	t.Helper()
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	p.cancel = nil
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("proxy did not stop\n%s", p.stderr)
		return nil
	}
}

// metric returns the value of one sample of the proxy's /metrics, failing
// the test when it is absent.
func (p *runningProxy) metric(t *testing.T, sample string) float64 {
	t.Helper()
	resp, err := http.Get(p.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in /metrics:\n%s", sample, b)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// seen is a request as a target saw it.
type seen struct {
	client                    string // X-Client: which test session sent it
	method, path, query, body string
}

// recordingTarget is a loopback server that notes every request.
func recordingTarget(t *testing.T) (*httptest.Server, func() []seen) {
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Header.Get("X-Client"), r.Method, r.URL.Path, r.URL.RawQuery, string(b)})
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, func() []seen {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// perClient groups requests by client, in order.
func perClient(reqs []seen) map[string][]seen {
	m := map[string][]seen{}
	for _, r := range reqs {
		m[r.client] = append(m[r.client], r)
	}
	return m
}

// sessionScript is what test session i sends, in order.
func sessionScript(i int) []seen {
	c := fmt.Sprintf("client-%d", i)
	return []seen{
		{c, "GET", "/", "", ""},
		{c, "GET", "/items", fmt.Sprintf("page=%d&sort=new", i), ""},
		{c, "POST", "/api/cart", "", fmt.Sprintf(`{"item":%d,"qty":2}`, i)},
		{c, "PUT", "/api/cart/1", "v=2", "qty=3"},
		{c, "DELETE", "/api/cart/1", "", ""},
		{c, "GET", "/checkout", "step=" + strconv.Itoa(i), ""},
	}
}

// sendSessions sends n sessions concurrently through url, each in order
// with its own cookie, and returns the requests that failed.
func sendSessions(t *testing.T, url string, n int) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for i := range n {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for _, r := range sessionScript(i) {
				target := url + r.path
				if r.query != "" {
					target += "?" + r.query
				}
				req, _ := http.NewRequest(r.method, target, strings.NewReader(r.body))
				req.Header.Set("X-Client", r.client)
				req.AddCookie(&http.Cookie{Name: "sid", Value: fmt.Sprintf("session-%d", i)})
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != 200 {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return failed
}

// TestCaptureProxyReplay: Go clients through the tap to a loopback
// upstream, the capture replayed against a fresh loopback target: every
// session's requests arrive in the same order with the same method, path,
// query and body.
func TestCaptureProxyReplay(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	upstream, upstreamSeen := recordingTarget(t)
	dir := t.TempDir() + "/cap"
	p := startProxy(t, "--upstream", upstream.URL, "-o", dir, "--bodies", "/", "--session-key", "cookie:sid",
		"--reorder-window", "50ms", "--flush-interval", "100ms")
	const sessions = 4
	if failed := sendSessions(t, p.url, sessions); failed != 0 {
		t.Fatalf("%d requests failed through the proxy", failed)
	}
	want := perClient(upstreamSeen())
	if n := p.metric(t, "surge_capture_added_latency_seconds_count"); n != sessions*6 {
		t.Errorf("added latency histogram counts %v requests; want %d", n, sessions*6)
	}
	p.metric(t, "surge_capture_queue_depth") // present
	p.stop(t)
	if !strings.Contains(p.stderr.String(), fmt.Sprintf("%d exchanges and 0 frames recorded, 0 events dropped", sessions*6)) {
		t.Errorf("stderr:\n%s", p.stderr)
	}
	target, targetSeen := recordingTarget(t)
	out, stderr, err := surge(t, "replay", "--from", dir, "--target", target.URL, "--mode", "closed", "--progress", "none")
	if err := unlessBehind(err); err != nil {
		t.Fatalf("replay: %v\n%s\n%s", err, out, stderr)
	}
	if strings.Contains(stderr, "capture loss") {
		t.Errorf("replay states a loss the capture did not have:\n%s", stderr)
	}
	got := perClient(targetSeen())
	if len(got) != sessions {
		t.Fatalf("replay sent %d sessions; want %d", len(got), sessions)
	}
	for c, reqs := range want {
		if !slices.Equal(got[c], reqs) {
			t.Errorf("session %s replayed as\n%v\nwant\n%v", c, got[c], reqs)
		}
		if !slices.Equal(reqs, sessionScript(int(c[len(c)-1]-'0'))) {
			t.Errorf("upstream saw %s as %v", c, reqs)
		}
	}
	text := mustSurge(t, "inspect", dir)
	t.Logf("inspect:\n%s\nproxy:\n%s", text, p.stderr)
	if !strings.Contains(text, "capture (proxy)") || !strings.Contains(text, "0 dropped") {
		t.Errorf("inspect does not state the capture's loss:\n%s", text)
	}
}

// TestCaptureProxyRefusals: bad options are usage errors naming the option.
func TestCaptureProxyRefusals(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", "d"}, "--upstream URL is required"},                                                                // no upstream
		{[]string{"--upstream", "ftp://x", "-o", "d"}, `--upstream "ftp://x": want http://`},                               // bad scheme
		{[]string{"--upstream", "http://127.0.0.1:1"}, "-o DIR or -o kafka://"},                                            // no output
		{[]string{"--upstream", "http://127.0.0.1:1", "-o", "kafka://h/t"}, "--output: kafka address"},                     // bad kafka address
		{[]string{"--upstream", "http://127.0.0.1:1", "-o", file}, "not a directory"},                                      // output is a file
		{[]string{"--upstream", "http://127.0.0.1:1", "-o", "d", "--sample", "0"}, "--sample 0: want a fraction"},          // zero sample
		{[]string{"--upstream", "http://127.0.0.1:1", "-o", "d", "--sample", "1.5"}, "--sample 1.5"},                       // sample over 1
		{[]string{"--upstream", "http://127.0.0.1:1", "-o", "d", "--bodies", "api"}, "--bodies: body route \"api\""},       // no slash
		{[]string{"--upstream", "http://127.0.0.1:1", "-o", "d", "--session-key", "body:x"}, "--session-key"},              // unknown kind
		{[]string{"--upstream", "http://127.0.0.1:1", "-o", "d", "--tls-cert", "c"}, "--tls-cert and --tls-key"},           // cert without key
		{[]string{"--upstream", "http://localhost:8080", "-o", "d", "--listen", "127.0.0.1:8080"}, "proxy's own --listen"}, // a loop
	} {
		_, _, err := surge(t, append([]string{"capture", "proxy"}, tc.args...)...)
		var ee *exitError
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("capture proxy %v = %v; want a usage error with %q", tc.args, err, tc.want)
		}
	}
}

// TestCaptureProxyConfig runs the example config (its listen, admin and
// output overridden) and records through it.
func TestCaptureProxyConfig(t *testing.T) {
	t.Setenv("SURGE_SCRUB_KEY", "test-key")
	upstream, _ := recordingTarget(t)
	dir := filepath.Join(t.TempDir(), "cap")
	p := startProxy(t, "--config", "../../configs/capture-proxy.yaml", "--upstream", upstream.URL, "-o", dir, "--reorder-window", "10ms")
	if failed := sendSessions(t, p.url, 20); failed != 0 {
		t.Fatalf("%d requests failed", failed)
	}
	// Events are counted as the recorder passes them on.
	var sampled, kept float64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		sampled = p.metric(t, "surge_capture_sampled_out_events_total")
		kept = p.metric(t, `surge_capture_events_total{kind="exchange"}`)
		if sampled+kept == 20*6 {
			break
		}
	}
	p.stop(t)
	if sampled+kept != 20*6 {
		t.Fatalf("%v sampled out + %v kept; want all %d counted", sampled, kept, 20*6)
	}
	// sample 0.1 of 20 sessions: most are sampled out.
	if sampled == 0 {
		t.Errorf("the config's sample 0.1 kept every session")
	}
}
