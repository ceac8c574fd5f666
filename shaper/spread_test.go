package shaper_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// schedule runs a shaper over events at ratio 1 and returns its requests.
func schedule(t *testing.T, cfg shaper.Config, events []schema.Exchange) []shaper.Request {
	t.Helper()
	sh, err := shaper.New(cfg, open(events))
	if err != nil {
		t.Fatal(err)
	}
	var out []shaper.Request
	for {
		r, err := sh.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *r)
	}
}

// TestResolutionSpreadsSharedInstants: a one-second-resolution log's
// requests that share a second are spread evenly within it, in input order
// (so each session keeps its order); instants not on the resolution's grid
// and lone events stay where they are; the input is never written to.
func TestResolutionSpreadsSharedInstants(t *testing.T) {
	sec := base.Truncate(time.Second)
	var events []schema.Exchange
	// 100 requests in the first second: sessions s0..s9, 10 requests each,
	// interleaved as an access log writes them.
	for i := range 100 {
		events = append(events, schema.Exchange{Time: sec, Session: fmt.Sprintf("s%d", i%10), Seq: int32(i / 10), Method: "GET", Path: fmt.Sprint("/", i)})
	}
	// a lone request in the next second, then two sharing an instant that
	// is not on the one-second grid (a computed request start).
	events = append(events,
		schema.Exchange{Time: sec.Add(time.Second), Session: "lone", Method: "GET", Path: "/lone"},
		schema.Exchange{Time: sec.Add(2*time.Second + 123*time.Millisecond), Session: "a", Method: "GET", Path: "/a"},
		schema.Exchange{Time: sec.Add(2*time.Second + 123*time.Millisecond), Session: "b", Method: "GET", Path: "/b"},
		// three in a second cut short by the next event 300 ms later
		schema.Exchange{Time: sec.Add(3 * time.Second), Session: "c", Method: "GET", Path: "/c0"},
		schema.Exchange{Time: sec.Add(3 * time.Second), Session: "c", Method: "GET", Path: "/c1"},
		schema.Exchange{Time: sec.Add(3 * time.Second), Session: "c", Method: "GET", Path: "/c2"},
		schema.Exchange{Time: sec.Add(3*time.Second + 300*time.Millisecond), Session: "d", Method: "GET", Path: "/d"},
	)
	got := schedule(t, shaper.Config{Resolution: time.Second, Spread: -1}, events)
	if len(got) != len(events) {
		t.Fatalf("schedule has %d requests; want %d", len(got), len(events))
	}
	for i := range 100 {
		if want := time.Duration(i) * 10 * time.Millisecond; got[i].At != want || got[i].Exchange.Path != events[i].Path {
			t.Errorf("request %d = %s at %v; want %s at %v", i, got[i].Exchange.Path, got[i].At, events[i].Path, want)
		}
	}
	want := []struct {
		path string
		at   time.Duration
	}{
		{"/lone", time.Second},                       // alone: as recorded
		{"/a", 2*time.Second + 123*time.Millisecond}, // off the grid: as recorded
		{"/b", 2*time.Second + 123*time.Millisecond},
		{"/c0", 3 * time.Second}, // spread over the 300 ms before /d
		{"/c1", 3*time.Second + 100*time.Millisecond},
		{"/c2", 3*time.Second + 200*time.Millisecond},
		{"/d", 3*time.Second + 300*time.Millisecond},
	}
	for i, w := range want {
		r := got[100+i]
		if r.Exchange.Path != w.path || r.At != w.at {
			t.Errorf("request %d = %s at %v; want %s at %v", 100+i, r.Exchange.Path, r.At, w.path, w.at)
		}
	}
	for i := range events[:100] {
		if !events[i].Time.Equal(sec) {
			t.Fatalf("input event %d time changed to %v", i, events[i].Time)
		}
	}
	// Deterministic: the same capture gives the same schedule.
	again := schedule(t, shaper.Config{Resolution: time.Second, Spread: -1}, events)
	for i := range got {
		if got[i].At != again[i].At || got[i].Exchange.Path != again[i].Exchange.Path {
			t.Fatalf("second schedule differs at %d: %v %s vs %v %s", i, again[i].At, again[i].Exchange.Path, got[i].At, got[i].Exchange.Path)
		}
	}
	// Without a resolution nothing moves.
	exact := schedule(t, shaper.Config{Spread: -1}, events)
	for i := range 100 {
		if exact[i].At != 0 {
			t.Fatalf("exact times: request %d at %v; want 0", i, exact[i].At)
		}
	}
}

// TestResolutionKeepsSessionOrderAcrossLoops: spreading happens on every
// pass, the same way.
func TestResolutionKeepsSessionOrderAcrossLoops(t *testing.T) {
	sec := base.Truncate(time.Second)
	events := []schema.Exchange{
		{Time: sec, Session: "s", Seq: 0, Method: "GET", Path: "/0"},
		{Time: sec, Session: "s", Seq: 1, Method: "GET", Path: "/1"},
		{Time: sec.Add(time.Second), Session: "s", Seq: 2, Method: "GET", Path: "/2"},
	}
	got := schedule(t, shaper.Config{Resolution: time.Second, Loops: 2, Spread: -1}, events)
	wantAt := []time.Duration{0, 500 * time.Millisecond, time.Second, time.Second, 1500 * time.Millisecond, 2 * time.Second}
	if len(got) != len(wantAt) {
		t.Fatalf("schedule has %d requests; want %d", len(got), len(wantAt))
	}
	for i, w := range wantAt {
		if got[i].At != w {
			t.Errorf("request %d (%s, loop %d) at %v; want %v", i, got[i].Exchange.Path, got[i].Loop, got[i].At, w)
		}
	}
}

// TestResolutionStaysInTheWindow: an instant just before the window's end is
// spread only up to it, so none of its requests leaves the window.
func TestResolutionStaysInTheWindow(t *testing.T) {
	sec := base.Truncate(time.Second)
	var events []schema.Exchange
	for i := range 4 {
		events = append(events, schema.Exchange{Time: sec, Session: fmt.Sprint("s", i), Method: "GET", Path: fmt.Sprint("/", i)})
	}
	got := schedule(t, shaper.Config{Resolution: time.Second, Spread: -1, From: sec, To: sec.Add(400 * time.Millisecond)}, events)
	if len(got) != 4 {
		t.Fatalf("schedule has %d requests; want all 4 in the window", len(got))
	}
	for i, r := range got {
		if want := time.Duration(i) * 100 * time.Millisecond; r.At != want {
			t.Errorf("request %d at %v; want %v", i, r.At, want)
		}
	}
}
