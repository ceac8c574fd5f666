package replay

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// Cases of the same kinds as the field cases, made up here (the field cases
// that are kept back are of these kinds): each runs on both drivers.

// reusedThen returns n sessions, each a GET /first then, gap later (on the
// connection the GET left idle), a request of method to path?sess=N.
func reusedThen(n int, method, path string, gap time.Duration) *slice {
	var reqs []shaper.Request
	for s := range n {
		sess := fmt.Sprintf("s%d", s)
		at := time.Duration(s) * 5 * time.Millisecond
		reqs = append(reqs,
			shaper.Request{At: at, Session: sess, VirtualSession: sess, First: true,
				Exchange: &schema.Exchange{Method: "GET", Path: "/first", Query: "sess=" + fmt.Sprint(s), Session: sess}},
			shaper.Request{At: at + gap, Session: sess, VirtualSession: sess,
				Exchange: &schema.Exchange{Method: method, Path: path, Query: "sess=" + fmt.Sprint(s), Seq: 1, Session: sess,
					Body: []byte(`{"v":1}`), BodySize: 7}},
		)
	}
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].At < reqs[j].At })
	return &slice{reqs: reqs}
}

// TestUnseenIdempotentRetry: a PUT and a DELETE (idempotent, RFC 9110
// §9.2.2) on a reused connection that the target reads and closes without
// answering (the first time only) are sent again once, on a new connection,
// and counted as retried; they reach the target at most twice and end ok.
// (The POST of the same kind is field case post-retry: never sent twice.)
func TestUnseenIdempotentRetry(t *testing.T) {
	for _, method := range []string{"PUT", "DELETE"} {
		for _, drv := range drivers {
			t.Run(method+"/"+drv, func(t *testing.T) {
				t.Parallel()
				var mu sync.Mutex
				seen := map[string]int{}
				rec := newRecording(t, func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					seen[r.RequestURI]++
					first := seen[r.RequestURI] == 1
					mu.Unlock()
					if r.Method == method && first {
						c, _, _ := w.(http.Hijacker).Hijack()
						c.Close()
						return
					}
					w.Write([]byte("ok"))
				})
				results, _, err := collect(t, Config{Target: rec.base, Driver: drv}, reusedThen(20, method, "/item", 100*time.Millisecond), nil)
				if err != nil {
					t.Fatal(err)
				}
				arrived := map[string]int{}
				for _, a := range rec.arrivals() {
					if a.method == method {
						arrived[a.target]++
						if a.body != `{"v":1}` {
							t.Errorf("%s %s arrived with body %q; want the recorded one", a.method, a.target, a.body)
						}
					}
				}
				// On a loaded machine the GET may still be in flight when
				// the PUT is due: then the PUT has a new connection of its
				// own, and its reset there is rightly not retried.
				var retried, freshResets int
				for _, r := range results {
					if r.Method != method {
						continue
					}
					switch {
					case r.Error == "" && r.Retries == 1:
						retried++
					case r.Error == schema.ErrReset && r.Retries == 0 && r.Conn == schema.ConnNew:
						freshResets++
					default:
						t.Errorf("%s seq %d: error %q (%s), retries %d, conn %q", method, r.Seq, r.Error, r.Detail, r.Retries, r.Conn)
					}
				}
				if retried+freshResets != 20 || retried < 10 {
					t.Errorf("%d retried once and ok, %d reset on a new connection; want 20 in all, at least 10 retried", retried, freshResets)
				}
				for q, n := range arrived {
					if n > 2 {
						t.Errorf("%s %s reached the target %d times; want at most twice", method, q, n)
					}
				}
				if s := summarize(results); s.Connections.Retried != int64(retried) {
					t.Errorf("report counts %d retries; want %d", s.Connections.Retried, retried)
				}
			})
		}
	}
}

// TestUnseenCloseEveryOther: a target that answers every other response of a
// connection with Connection: close. Every request reaches it once and is
// ok: the closing connection gets no new request, so nothing is reset or
// retried.
func TestUnseenCloseEveryOther(t *testing.T) {
	for _, drv := range drivers {
		t.Run(drv, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			perConn := map[string]int{}
			rec := newRecording(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				perConn[r.RemoteAddr]++
				n := perConn[r.RemoteAddr]
				mu.Unlock()
				if n%2 == 0 {
					w.Header().Set("Connection", "close")
				}
				w.Write([]byte("ok"))
			})
			sched := sessions(40, 10, 3*time.Millisecond, 5*time.Millisecond)
			results, _, err := collect(t, Config{Target: rec.base, Driver: drv}, sched, nil)
			if err != nil {
				t.Fatal(err)
			}
			s := summarize(results)
			if n := len(rec.arrivals()); s.OK != 400 || n != 400 || s.Errors != 0 || s.Connections.Retried != 0 {
				t.Errorf("ok %d, errors %v, retries %d, %d at the target; want 400 ok, no errors or retries, 400 at the target", s.OK, s.ErrorsBy, s.Connections.Retried, n)
			}
		})
	}
}

// TestUnseenMatrixParams: paths with %-escapes and `;` matrix parameters
// (RFC 3986 §3.3 sub-delims) reach the target byte-exact on both drivers:
// nothing decoded, re-encoded or cut at the `;`.
func TestUnseenMatrixParams(t *testing.T) {
	targets := []string{
		"/shop;jsessionid=AbC123/items%2F1;v=2",
		"/a%20b;c=d%3Be/%7Euser",
		"/x;y?q=%3B;z&r=a%2Bb",
		"/cars;color=red;year=2026/%E2%82%AC",
	}
	for _, drv := range drivers {
		t.Run(drv, func(t *testing.T) {
			rec, target := newRawRecording(t, 0)
			var reqs []shaper.Request
			for i, raw := range targets {
				path, q, _ := strings.Cut(raw, "?")
				reqs = append(reqs, shaper.Request{At: time.Duration(i) * time.Millisecond, Session: "s", VirtualSession: "s",
					Exchange: &schema.Exchange{Method: "GET", Path: path, Query: q, Seq: int32(i)}})
			}
			results, _ := replayCase(t, Config{Target: target}, drv, &slice{reqs: reqs})
			for _, r := range results {
				if r.Error != "" {
					t.Errorf("seq %d: error %s", r.Seq, r.Error)
				}
			}
			got := map[string]bool{}
			for _, a := range rec.all() {
				got[a.target] = true
			}
			for _, want := range targets {
				if !got[want] {
					t.Errorf("%s never arrived byte-exact; arrived: %v", want, got)
				}
			}
		})
	}
}
