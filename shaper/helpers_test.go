package shaper_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// base is the capture's first event time in the synthetic captures.
var base = time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC)

// open returns an Opener over events: each pass yields &events[i] in turn
// (a distinct, read-only value per call), so a shaper that wrote to an
// exchange would change events.
func open(events []schema.Exchange) shaper.Opener {
	return func() (shaper.Source, error) {
		i := 0
		return func() (*schema.Exchange, error) {
			if i == len(events) {
				return nil, io.EOF
			}
			i++
			return &events[i-1], nil
		}, nil
	}
}

// synth returns n recorded sessions of m requests each, in time order:
// session i starts at base + i × every; its requests are gap apart plus
// (i mod 7) ms × j, so gaps differ between sessions. Every time is a whole
// millisecond. Sessions 2k and 2k+1 have the same user. Every third
// session starts on a /live path, the rest on /vod.
func synth(n, m int, every, gap time.Duration) []schema.Exchange {
	events := make([]schema.Exchange, 0, n*m)
	for i := range n {
		start := base.Add(time.Duration(i) * every)
		kind := "/vod/"
		if i%3 == 0 {
			kind = "/live/"
		}
		for j := range m {
			path := kind + fmt.Sprint(j)
			if j > 0 && i%3 == 0 {
				path = "/api/ping" // later requests of a live session are not /live
			}
			events = append(events, schema.Exchange{
				Time:    start.Add(time.Duration(j)*gap + time.Duration(i%7*j)*time.Millisecond),
				Session: fmt.Sprintf("s_%05d", i),
				User:    fmt.Sprintf("u_%05d", i/2),
				Seq:     int32(j),
				Method:  "GET",
				Path:    path,
			})
		}
	}
	slices.SortStableFunc(events, func(a, b schema.Exchange) int { return a.Time.Compare(b.Time) })
	return events
}

// out is one Request as returned, copied.
type out struct {
	shaper.Request
	Time time.Time // the recorded exchange's time
	Seq  int32     // the recorded exchange's Seq
	Path string
}

// run shapes events with cfg and returns every request and the final stats.
func run(t testing.TB, cfg shaper.Config, events []schema.Exchange) ([]out, shaper.Stats) {
	t.Helper()
	s, err := shaper.New(cfg, open(events))
	if err != nil {
		t.Fatalf("New(%+v) = %v", cfg, err)
	}
	var got []out
	for {
		r, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next() = %v; want a request or io.EOF", err)
		}
		got = append(got, out{Request: *r, Time: r.Exchange.Time, Seq: r.Exchange.Seq, Path: r.Exchange.Path})
	}
	if st := s.Stats(); st.Requests != int64(len(got)) {
		t.Errorf("Stats().Requests = %d; want %d returned", st.Requests, len(got))
	}
	return got, s.Stats()
}

// digest hashes every field of every request.
func digest(reqs []out) string {
	h := sha256.New()
	for _, r := range reqs {
		fmt.Fprintf(h, "%d %d %s %d %d %s %s %t %s %d\n", r.At, r.Think, r.Session, r.Clone, r.Loop,
			r.VirtualSession, r.User, r.First, r.Time.Format(time.RFC3339Nano), r.Seq)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cloneCounts returns the number of clones of each (session, loop).
func cloneCounts(reqs []out) map[string]int {
	n := map[string]int{}
	for _, r := range reqs {
		k := fmt.Sprintf("%s/%d", r.Session, r.Loop)
		n[k] = max(n[k], int(r.Clone)+1)
	}
	return n
}
