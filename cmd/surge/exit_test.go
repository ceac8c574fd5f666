package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog"
	"github.com/surge-replay/surge/schema"
)

// paths records the arrival time of every request by path prefix.
type paths struct {
	mu   sync.Mutex
	live []time.Time
	home []time.Time
}

func (p *paths) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if strings.HasPrefix(r.URL.Path, "/live/") {
		p.live = append(p.live, time.Now())
	} else {
		p.home = append(p.home, time.Now())
	}
	p.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func count(ts []time.Time, from, to time.Time) int {
	n := 0
	for _, t := range ts {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}

// TestExitLive ends half the live sessions of a running replay through the
// control API and sends their users home: the live rate halves, and the
// follow-up sessions (drawn from the recorded sessions starting on the home
// page, collected before the run) arrive at the target.
func TestExitLive(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(dir, "night.parquet")
	sink, err := eventlog.CreateSink[schema.Exchange](capture, eventlog.WriterConfig{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 21, 19, 0, 0, 0, time.UTC)
	var events []schema.Exchange
	for i := range 4 { // four recorded home sessions: home, then rails
		for j, p := range []string{"/api/v1/home", "/api/v1/rails"} {
			events = append(events, schema.Exchange{Time: t0.Add(time.Duration(i*10+j*100) * time.Millisecond), Session: fmt.Sprintf("h_%d", i), Seq: int32(j), Method: "GET", Path: p})
		}
	}
	for j := range 40 { // 100 live sessions, one request each 200 ms for 8 s
		for i := range 100 {
			events = append(events, schema.Exchange{Time: t0.Add(time.Second + time.Duration(j)*200*time.Millisecond + time.Duration(i)*time.Millisecond),
				Session: fmt.Sprintf("s_%03d", i), User: fmt.Sprintf("u_%03d", i), Seq: int32(j), Method: "GET", Path: "/live/1/seg.ts"})
		}
	}
	for i := range events {
		e := &events[i]
		e.Scheme, e.Host, e.Protocol, e.Source = "http", "example.com", "http/1.1", "test"
	}
	sortByTime(events)
	for i := range events {
		if err := sink.Add(&events[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "exit.yaml")
	os.WriteFile(conf, []byte("shape:\n  sessions:\n    home: {match: \"path=/api/v1/home\"}\n"), 0o644)
	target := &paths{}
	srv := httptest.NewServer(target)
	defer srv.Close()
	addr := freeAddr(t)
	done := make(chan error, 1)
	go func() {
		_, _, err := surge(t, "replay", "--from", capture, "--target", srv.URL, "--config", conf, "--control", addr, "--progress", "none", "--spread=0")
		done <- err
	}()
	api := "http://" + addr + "/v1/run"
	// The live sessions run from 1 s of the schedule; the exit comes at 3 s,
	// after 2 s of them (the API answers before the clock starts).
	time.Sleep(3*time.Second - waitRunning(t, api))
	exitAt := time.Now()
	resp, err := http.Post(api+"/exit", "application/json", strings.NewReader(`{"fraction": 0.5, "to": "home", "within": "500ms"}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/run/exit = %v, %v", resp, err)
	}
	resp.Body.Close()
	if err := unlessBehind(<-done); err != nil {
		t.Fatal(err)
	}
	target.mu.Lock()
	defer target.mu.Unlock()
	before := count(target.live, exitAt.Add(-2*time.Second), exitAt)
	after := count(target.live, exitAt.Add(time.Second), exitAt.Add(3*time.Second))
	homes := count(target.home, exitAt, exitAt.Add(2*time.Second))
	t.Logf("live requests: %d in the 2 s before the exit, %d in 2 s from 1 s after; %d home requests after it", before, after, homes)
	// 100 sessions at 5 requests a second: 1,000 in 2 s before, about 500
	// after (a binomial half of 100 sessions: ±5 sd = ±25 sessions).
	if before < 900 || after < 250 || after > 750 {
		t.Errorf("live requests %d before, %d after the exit; want about 1000, then 500", before, after)
	}
	// Each ended session's user goes home: two requests per follow-up. A
	// session still live sends 10 requests in the 2 s after the exit.
	ended := 100 - float64(after)/10
	if d := float64(homes) - 2*ended; d < -10 || d > 10 {
		t.Errorf("%d home requests after the exit; want two for each of the %.0f ended sessions", homes, ended)
	}
}

func sortByTime(events []schema.Exchange) {
	slices.SortStableFunc(events, func(a, b schema.Exchange) int { return a.Time.Compare(b.Time) })
}
