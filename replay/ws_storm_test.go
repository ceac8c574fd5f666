package replay

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/demo"
	"github.com/surge-replay/surge/report"
	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// stormRun replays clients WebSocket clients against a demo target that
// accepts 25 handshakes a second (a bucket of 10), drops all of them at
// 2.5 s with policy, and returns the report's storm and its text.
func stormRun(t *testing.T, policy string, clients int) (report.StormReport, string, demo.WSStats) {
	srv, err := demo.Start(demo.Config{WebSocket: demo.WSConfig{AcceptRate: 25, AcceptBurst: 10, ChatInterval: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	target, _ := url.Parse(srv.URL())
	x := NewFrameIndex()
	var reqs []shaper.Request
	for i := range clients {
		s := fmt.Sprintf("s%02d", i)
		// A message every 500 ms for 9 s, then the client closes: a
		// client never reconnects past its recorded life, and the
		// waves without jitter take 5.5 s after the storm at 2.5 s.
		wsScriptFrames(x, ConnID(s, 0), 18, 0, 500*time.Millisecond, 9*time.Second, 0)
		reqs = append(reqs, shaper.Request{At: time.Duration(i) * 50 * time.Millisecond, Session: s, VirtualSession: s,
			Exchange: wsUpgrade(s, "/ws/chat/derby-20261121")})
	}
	spec := shaper.StormSpec{At: "+2.5s", Fraction: 1, Policy: policy, Base: shaper.Duration(500 * time.Millisecond),
		Cap: shaper.Duration(2 * time.Second), MaxAttempts: 6}
	storms := []shaper.Storm{{StormSpec: spec, Offset: 2500 * time.Millisecond}}
	agg := report.NewAggregator(report.RunInfo{StormPlan: []report.StormInfo{{AtNS: int64(storms[0].Offset), Spec: spec.String(), Policy: policy, MaxAttempts: spec.MaxAttempts}}})
	var mu sync.Mutex
	cfg := Config{Target: target, GoClock: true, WebSocket: &WSConfig{Frames: x, Storms: storms, StormSeed: 1},
		Started: func(start time.Time) { agg.SetStart(start) }}
	if _, err := Run(context.Background(), cfg, &slice{reqs: reqs}, nil, func(r *schema.Result) {
		mu.Lock()
		agg.Add(r)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	s := agg.Summary()
	if len(s.Storms) != 1 {
		t.Fatalf("%d storms in the report; want 1", len(s.Storms))
	}
	var text bytes.Buffer
	s.WriteText(&text)
	i := strings.Index(text.String(), "reconnect storms")
	j := strings.Index(text.String()[i:], "\n\n")
	return s.Storms[0], text.String()[i : i+max(j, 0)], srv.Stats().WebSocket
}

// TestStormWaves: a storm against a loopback feed server with a handshake
// limit. Without reconnect every client is gone; exponential backoff
// without jitter retries in waves (seconds without any attempt between
// them), most of each wave refused; full jitter spreads the attempts, needs
// fewer and brings the clients back sooner. The report shows each.
func TestStormWaves(t *testing.T) {
	if testing.Short() {
		t.Skip("a storm takes about 12 s")
	}
	const clients = 40
	type out struct {
		r    report.StormReport
		text string
		srv  demo.WSStats
	}
	got := map[string]out{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range []string{"none", "exponential", "full_jitter"} {
		wg.Go(func() {
			r, text, st := stormRun(t, p, clients)
			mu.Lock()
			got[p] = out{r, text, st}
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, p := range []string{"none", "exponential", "full_jitter"} {
		t.Logf("%s (demo target: %d upgrades, %d refused over the rate):\n%s", p, got[p].srv.Upgrades, got[p].srv.RefusedRate, got[p].text)
		if r := got[p].r; r.Dropped != clients {
			t.Errorf("%s: %d clients cut off; want all %d", p, r.Dropped, clients)
		}
	}
	none, exp, full := got["none"].r, got["exponential"].r, got["full_jitter"].r
	if none.Attempts != 0 || none.GaveUp != clients || none.Back95MS != -1 {
		t.Errorf("none: %d attempts, %d gave up, back95 %v; want 0, all, never", none.Attempts, none.GaveUp, none.Back95MS)
	}
	// Waves: between the first and the last second with attempts, some
	// seconds have none.
	first, last, empty := -1, -1, 0
	for i, n := range exp.AttemptsPerSecond {
		if n > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	for i := first; i >= 0 && i <= last; i++ {
		if exp.AttemptsPerSecond[i] == 0 {
			empty++
		}
	}
	if empty == 0 || exp.Refused == 0 {
		t.Errorf("exponential: attempts per second %v, %d refused; want waves with empty seconds between, and refusals", exp.AttemptsPerSecond, exp.Refused)
	}
	if full.Back != clients || full.Attempts >= exp.Attempts {
		t.Errorf("full jitter: %d of %d back in %d attempts; exponential %d attempts; want all back, in fewer attempts", full.Back, clients, full.Attempts, exp.Attempts)
	}
	if exp.Back == clients && full.Back95MS >= exp.Back95MS {
		t.Errorf("95%% back after %v ms with full jitter, %v ms without; want sooner with jitter", full.Back95MS, exp.Back95MS)
	}
}

// TestStormTargetRestart: a restart storm POSTs the demo target's restart
// control; the target closes every socket (1012) and refuses upgrades for
// 500 ms; the clients it closed reconnect by the storm's policy, through
// the refusals, and all are back.
func TestStormTargetRestart(t *testing.T) {
	srv, err := demo.Start(demo.Config{WebSocket: demo.WSConfig{AcceptRate: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	target, _ := url.Parse(srv.URL())
	x := NewFrameIndex()
	var reqs []shaper.Request
	const clients = 20
	for i := range clients {
		s := fmt.Sprintf("s%02d", i)
		wsScriptFrames(x, ConnID(s, 0), 4, 0, 500*time.Millisecond, 3*time.Second, 0)
		reqs = append(reqs, shaper.Request{At: time.Duration(i) * 10 * time.Millisecond, Session: s, VirtualSession: s,
			Exchange: wsUpgrade(s, "/ws/viewers/derby-20261121")})
	}
	spec := shaper.StormSpec{At: "+1s", Restart: demo.RestartPath + "?down=500ms", Policy: "full_jitter",
		Base: shaper.Duration(200 * time.Millisecond), Cap: shaper.Duration(time.Second)}
	storms := []shaper.Storm{{StormSpec: spec, Offset: time.Second}}
	agg := report.NewAggregator(report.RunInfo{StormPlan: []report.StormInfo{{AtNS: int64(time.Second), Spec: spec.String(), Restart: true, Policy: spec.Policy}}})
	var mu sync.Mutex
	var closed1012 int
	var rows []string
	var start0 time.Time
	cfg := Config{Target: target, GoClock: true, WebSocket: &WSConfig{Frames: x, Storms: storms, StormSeed: 1},
		Started: func(start time.Time) { agg.SetStart(start); start0 = start }}
	if _, err := Run(context.Background(), cfg, &slice{reqs: reqs}, nil, func(r *schema.Result) {
		mu.Lock()
		defer mu.Unlock()
		agg.Add(r)
		if r.WSCloseBy == schema.WSCloseTarget && r.WSCloseCode == 1012 {
			closed1012++
			rows = append(rows, fmt.Sprintf("%s#%d attempt %d intended %v latency %v duration %v", r.Session, r.Clone, r.WSAttempt,
				r.Intended.Sub(start0), time.Duration(r.LatencyNS), time.Duration(r.WSDurationNS)))
		}
	}); err != nil {
		t.Fatal(err)
	}
	s := agg.Summary().Storms[0]
	st := srv.Stats().WebSocket
	if st.Restarts != 1 || closed1012 != clients {
		t.Errorf("target: %d restarts, %d connections closed with 1012; want 1, %d", st.Restarts, closed1012, clients)
	}
	if s.Dropped != clients {
		t.Logf("closed with 1012:\n%s", strings.Join(rows, "\n"))
	}
	if s.Dropped != clients || s.Back != clients || s.Refused == 0 || s.Refused != st.RefusedDown {
		t.Errorf("storm: %d cut off, %d back, %d refused (target refused %d while down); want %d, %d, the target's refusals",
			s.Dropped, s.Back, s.Refused, st.RefusedDown, clients, clients)
	}
	if s.Back95MS < 500 {
		t.Errorf("95%% back after %v ms; want after the 500 ms the target was down", s.Back95MS)
	}
}

// TestWSChecksAgainstDemoFaults: the demo feed server injecting each fault
// at known frames of every connection (a skipped, a duplicated and a
// regressed sequence number, a message stamped 5 s early) and the replay's
// checks: on each of three connections every fault is counted once and
// nothing else is.
func TestWSChecksAgainstDemoFaults(t *testing.T) {
	faults := []demo.Fault{
		{Feed: "chat", Frame: 3, Kind: demo.FaultSkip},
		{Feed: "chat", Frame: 6, Kind: demo.FaultDuplicate},
		{Feed: "chat", Frame: 9, Kind: demo.FaultRegress},
		{Feed: "chat", Frame: 12, Kind: demo.FaultDelay, Delay: 5 * time.Second},
	}
	srv, err := demo.Start(demo.Config{WebSocket: demo.WSConfig{AcceptRate: -1, ChatInterval: 20 * time.Millisecond, Faults: faults}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	target, _ := url.Parse(srv.URL())
	x := NewFrameIndex()
	var reqs []shaper.Request
	for i := range 3 {
		s := fmt.Sprintf("s%d", i)
		// Subscribe, then stay 1 s (about 50 feed messages), then close.
		x.Add(&schema.Frame{Time: t0, Conn: ConnID(s, 0), Direction: schema.FromClient, Opcode: schema.OpText, Payload: []byte(`{"type":"subscribe"}`)})
		x.Add(&schema.Frame{Time: t0.Add(time.Second), Conn: ConnID(s, 0), Direction: schema.FromClient, Opcode: schema.OpClose, Payload: []byte{0x03, 0xe8}})
		reqs = append(reqs, shaper.Request{At: time.Duration(i) * 7 * time.Millisecond, Session: s, VirtualSession: s, Exchange: wsUpgrade(s, "/ws/chat/derby-20261121")})
	}
	checks := []WSCheck{{Route: "/ws/chat/*", Seq: "$.seq", Stream: "$.stream", TS: "$.ts"}}
	got, _ := runWS(t, target, reqs, &WSConfig{Frames: x, Checks: checks})
	if len(got) != 3 {
		t.Fatalf("%d result rows; want 3", len(got))
	}
	for _, r := range got {
		if r.WSFramesIn < 15 {
			t.Errorf("%s: %d messages in; want the 12th frame and beyond", r.Session, r.WSFramesIn)
		}
		if r.WSGaps != 1 || r.WSDuplicates != 1 || r.WSRegressions != 1 {
			t.Errorf("%s: gaps %d, duplicates %d, regressions %d; want 1 each", r.Session, r.WSGaps, r.WSDuplicates, r.WSRegressions)
		}
		if r.WSStaleMaxNS < int64(5*time.Second) || r.WSStaleMaxNS > int64(6*time.Second) {
			t.Errorf("%s: stale max %v; want about 5 s (the one delayed message)", r.Session, time.Duration(r.WSStaleMaxNS))
		}
	}
}
