package shaper_test

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

func TestRewrite(t *testing.T) {
	in := schema.Exchange{Method: "GET", Host: "www.example.com", Path: "/live/derby-2025/manifest.m3u8", Query: "cdn=a&utm_source=x&q=1",
		Headers: []schema.Header{{Name: "User-Agent", Value: "tv"}, {Name: "X-Forwarded-For", Value: "192.0.2.1"}, {Name: "x-client", Value: "old"}}}
	pristine := in
	pristine.Headers = append([]schema.Header(nil), in.Headers...)
	tests := []struct {
		name     string
		content  *shaper.ContentSpec
		rewrites []shaper.RewriteSpec
		class    string
		want     func(e *schema.Exchange) string // "" when right
	}{
		// Host and path prefix.
		{"host and prefix", nil, []shaper.RewriteSpec{{Host: "staging.example.com:8443", PathPrefix: &shaper.PrefixSpec{From: "/live/", To: "/v2/live/"}}}, "", func(e *schema.Exchange) string {
			if e.Host != "staging.example.com:8443" || e.Path != "/v2/live/derby-2025/manifest.m3u8" {
				return e.Host + e.Path
			}
			return ""
		}},
		// Headers set (replacing any case) and removed.
		{"headers", nil, []shaper.RewriteSpec{{SetHeaders: map[string]string{"X-Client": "surge", "X-Replay": "1"}, RemoveHeaders: []string{"x-forwarded-for"}}}, "", func(e *schema.Exchange) string {
			got := fmt.Sprint(e.Headers)
			if got != "[{User-Agent tv} {X-Client surge} {X-Replay 1}]" {
				return got
			}
			return ""
		}},
		// Query set and removed.
		{"query", nil, []shaper.RewriteSpec{{SetQuery: map[string]string{"cdn": "off"}, RemoveQuery: []string{"utm_source"}}}, "", func(e *schema.Exchange) string {
			if e.Query != "cdn=off&q=1" {
				return e.Query
			}
			return ""
		}},
		// A rewrite of another class does nothing.
		{"other class", nil, []shaper.RewriteSpec{{Class: "vod", Host: "x"}}, "live", func(e *schema.Exchange) string {
			if e.Host != in.Host {
				return e.Host
			}
			return ""
		}},
		// Content id in the path, one id in the list.
		{"content", &shaper.ContentSpec{Pattern: `^/live/(?P<id>[^/]+)/`, IDs: []shaper.Choice{{ID: "derby-2026", Weight: 1}}}, nil, "", func(e *schema.Exchange) string {
			if e.Path != "/live/derby-2026/manifest.m3u8" {
				return e.Path
			}
			return ""
		}},
		// Content id in the query.
		{"content in query", &shaper.ContentSpec{Pattern: `[?&]q=(?P<id>[^&]+)`, IDs: []shaper.Choice{{ID: "a b", Weight: 1}}}, nil, "", func(e *schema.Exchange) string {
			if e.Query != "cdn=a&utm_source=x&q=a+b" {
				return e.Query
			}
			return ""
		}},
	}
	for _, tt := range tests {
		rw, err := shaper.NewRewriter(tt.content, tt.rewrites, 1)
		if err != nil {
			t.Fatalf("%s: NewRewriter = %v", tt.name, err)
		}
		out := in
		rw.Rewrite(&shaper.ProxyRequest{In: &in, Out: &out, Virtual: "s_1", Class: tt.class})
		if bad := tt.want(&out); bad != "" {
			t.Errorf("%s: Rewrite gave %q", tt.name, bad)
		}
		if !reflect.DeepEqual(in, pristine) {
			t.Fatalf("%s: Rewrite changed its input: %+v", tt.name, in)
		}
	}
}

func TestNewRewriterErrors(t *testing.T) {
	_, err := shaper.NewRewriter(&shaper.ContentSpec{Pattern: "/live/([^/]+)/", IDs: []shaper.Choice{{ID: "x", Weight: 0}}},
		[]shaper.RewriteSpec{{PathPrefix: &shaper.PrefixSpec{From: "live", To: "/x"}}, {Host: "http://x/"}}, 1)
	for _, want := range []string{"no group named id", `ids[0] "x"`, `path_prefix from "live"`, `host "http://x/"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewRewriter error = %v; want it to say %s", err, want)
		}
	}
}

// liveCapture returns n sessions of 4 requests on /live/final-2025/…
// (with an X-Client header), 5 ms apart.
func liveCapture(n int) []schema.Exchange {
	var events []schema.Exchange
	for j := range 4 {
		for i := range n {
			events = append(events, schema.Exchange{
				Time: base.Add(time.Duration(j)*10*time.Second + time.Duration(i)*time.Millisecond), Session: fmt.Sprintf("s_%05d", i),
				Seq: int32(j), Method: "GET", Path: fmt.Sprintf("/live/final-2025/seg-%d.ts", j), Query: "cdn=a",
				Headers: []schema.Header{{Name: "X-Client", Value: "tv"}},
			})
		}
	}
	return events
}

func TestContentStableAndWeighted(t *testing.T) {
	const n = 3000
	shape := shaper.Settings{Content: &shaper.ContentSpec{Pattern: `^/live/(?P<id>[^/]+)/`,
		IDs: []shaper.Choice{{ID: "derby", Weight: 3}, {ID: "cup", Weight: 1}, {ID: "friendly", Weight: 0.5}}}}
	got, st := run(t, shaper.Config{Seed: 9, Ratio: shaper.Constant(3), Shape: shape}, liveCapture(n))
	chosen := map[string]string{}
	count := map[string]float64{}
	for _, r := range got {
		id := strings.Split(r.Exchange.Path, "/")[2]
		if prev, ok := chosen[r.VirtualSession]; ok && prev != id {
			t.Fatalf("virtual session %s watches %s, then %s; want one id throughout", r.VirtualSession, prev, id)
		}
		if _, ok := chosen[r.VirtualSession]; !ok {
			count[id]++
		}
		chosen[r.VirtualSession] = id
	}
	vs := float64(st.VirtualSessions)
	for id, w := range map[string]float64{"derby": 3 / 4.5, "cup": 1 / 4.5, "friendly": 0.5 / 4.5} {
		tol := 5 * math.Sqrt(vs*w*(1-w))
		if math.Abs(count[id]-vs*w) > tol {
			t.Errorf("%s: %v of %v virtual sessions; want %.0f ± %.0f (weight %.3f)", id, count[id], vs, vs*w, tol, w)
		}
	}
}

// TestRewriteNeverMutatesRecorded: clones of a session share its recorded
// exchanges; rewrites make copies. Readers of the recorded exchanges run
// while the shaper rewrites (go test -race catches a write), and at the end
// the capture is unchanged.
func TestRewriteNeverMutatesRecorded(t *testing.T) {
	events := liveCapture(500)
	pristine := make([]schema.Exchange, len(events))
	for i, e := range events {
		pristine[i] = e
		pristine[i].Headers = append([]schema.Header(nil), e.Headers...)
	}
	shape := shaper.Settings{
		Content: &shaper.ContentSpec{Pattern: `^/live/(?P<id>[^/]+)/`, IDs: []shaper.Choice{{ID: "derby", Weight: 1}, {ID: "cup", Weight: 1}}},
		Rewrites: []shaper.RewriteSpec{{Host: "staging", PathPrefix: &shaper.PrefixSpec{From: "/live/", To: "/v2/"},
			SetHeaders: map[string]string{"X-Client": "surge"}, RemoveHeaders: []string{"X-Other"}, SetQuery: map[string]string{"cdn": "off"}}},
	}
	s, err := shaper.New(shaper.Config{Seed: 2, Ratio: shaper.Constant(4), Shape: shape}, open(events))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() { // read the recorded exchanges all along
			defer wg.Done()
			for {
				for i := range events {
					_ = events[i].Path + events[i].Query + events[i].Host + events[i].Headers[0].Value
				}
				select {
				case <-done:
					return
				default:
				}
			}
		}()
	}
	sent := 0
	for {
		r, err := s.Next()
		if err != nil {
			break
		}
		if !strings.HasPrefix(r.Exchange.Path, "/v2/") || r.Exchange.Host != "staging" || r.Exchange.Headers[0].Value != "surge" || r.Exchange.Query != "cdn=off" {
			t.Fatalf("request %+v: not rewritten", r.Exchange)
		}
		sent++
	}
	close(done)
	wg.Wait()
	if sent != 4*len(events) {
		t.Errorf("%d requests; want %d", sent, 4*len(events))
	}
	if !reflect.DeepEqual(events, pristine) {
		t.Error("the recorded exchanges changed")
	}
}

func TestReadChoices(t *testing.T) {
	got, err := shaper.ReadChoices(strings.NewReader("Weight,ID\n3,derby\n1, cup \n"))
	if err != nil || fmt.Sprint(got) != "[{derby 3} {cup 1}]" {
		t.Errorf("ReadChoices = %v, %v; want [{derby 3} {cup 1}]", got, err)
	}
	_, err = shaper.ReadChoices(strings.NewReader("id,weight\nx,0\ny\nz,abc\n"))
	for _, want := range []string{"line 2", "line 3", "line 4"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadChoices(bad) = %v; want it to name %s", err, want)
		}
	}
}
