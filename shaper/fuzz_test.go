package shaper_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// FuzzShaper checks the schedule's promises on arbitrary captures and
// configs: output in non-decreasing At, clones delayed by [0, Spread) from
// clone 0, sessions in recorded order, every event read once per pass.
func FuzzShaper(f *testing.F) {
	f.Add([]byte("\x00\x10\x01\x01\x00\x00\x02\xff\x01\x00\x05\x00"), uint64(1), 2.5, 1.0, int64(time.Second), uint8(2))
	f.Add([]byte("abcdefghijklmnopqrstuvwxyz"), uint64(7), 0.6, 10.0, int64(-1), uint8(1))
	f.Add([]byte("\x05\x00\x00\x05\x00\x00\x05\x00\x00"), uint64(0), 3.0, 0.25, int64(0), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, ratio, speed float64, spread int64, loops uint8) {
		if math.IsNaN(ratio) || math.IsInf(ratio, 0) {
			ratio = 1
		}
		if math.IsNaN(speed) || math.IsInf(speed, 0) || speed == 0 {
			speed = 1
		}
		cfg := shaper.Config{
			Ratio:  shaper.Constant(math.Mod(math.Abs(ratio), 5)),
			Speed:  min(max(math.Abs(speed), 0.01), 1000),
			Seed:   seed,
			Spread: time.Duration(spread % int64(time.Minute)),
			Loops:  int(loops % 4),
		}
		events := fuzzEvents(data)
		got, st := run(t, cfg, events)
		if want := int64(len(events) * max(cfg.Loops, 1)); len(events) > 0 && st.Events != want {
			t.Errorf("Stats().Events = %d; want %d", st.Events, want)
		}
		type at struct {
			ex   *schema.Exchange
			loop int32
		}
		clone0 := map[at]time.Duration{}
		seq := map[string]int32{}
		spreadMax := cfg.Spread
		if spreadMax == 0 {
			spreadMax = shaper.DefaultSpread
		}
		for i, r := range got {
			if i > 0 && r.At < got[i-1].At {
				t.Fatalf("request %d at %v after %v", i, r.At, got[i-1].At)
			}
			if r.Clone == 0 {
				clone0[at{r.Exchange, r.Loop}] = r.At
			} else if c0, ok := clone0[at{r.Exchange, r.Loop}]; !ok {
				t.Fatalf("clone %d of an event before its clone 0", r.Clone)
			} else if j := r.At - c0; j < 0 || (spreadMax < 0 && j != 0) || (spreadMax > 0 && j >= spreadMax) {
				t.Fatalf("clone %d shifted by %v; want [0, %v)", r.Clone, j, spreadMax)
			}
			if prev, ok := seq[r.VirtualSession]; ok && r.Seq <= prev && !r.First {
				t.Fatalf("virtual session %s: seq %d after %d", r.VirtualSession, r.Seq, prev)
			}
			seq[r.VirtualSession] = r.Seq
			if r.Think < 0 || (r.First && r.Think != 0) {
				t.Fatalf("request %d: Think %v, First %t", i, r.Think, r.First)
			}
		}
	})
}

// fuzzEvents makes a time-ordered capture of three bytes per event: the
// session, the gap from the previous event in ms, and the path.
func fuzzEvents(data []byte) []schema.Exchange {
	var events []schema.Exchange
	t := base
	seq := map[string]int32{}
	for ; len(data) >= 3; data = data[3:] {
		s := fmt.Sprint("s", data[0]%6)
		t = t.Add(time.Duration(data[1]) * time.Millisecond)
		path := "/vod"
		if data[2]&1 == 1 {
			path = "/live"
		}
		events = append(events, schema.Exchange{Time: t, Session: s, User: "u" + s, Seq: seq[s], Path: path})
		seq[s]++
	}
	return events
}
