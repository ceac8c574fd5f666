package replay

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
	"github.com/surge-replay/surge/shaper"
)

// recordedCase is one line of a field case's capture, as far as the tests
// compare it with what arrived.
type recordedCase struct {
	Path    string          `json:"path"`
	Query   string          `json:"query"`
	Method  string          `json:"method"`
	Headers []schema.Header `json:"headers"`
	Body    []byte          `json:"body"`
}

func readCase(t *testing.T, name string) []recordedCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "field-cases", name, "capture.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []recordedCase
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var r recordedCase
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func seqOf(a rawArrival) string { v, _ := a.header("X-Seq"); return v }

// TestFieldCaseTargetPrefix: --target http://user:pass@127.0.0.1:P/base/?tenant=t1
// joins the prefix, merges the query, sends the user info as Basic auth, and
// otherwise sends every request as recorded: raw target byte-exact, body
// bytes exact, no User-Agent the capture lacks, repeated headers in order.
func TestFieldCaseTargetPrefix(t *testing.T) {
	path := importCase(t, "target-prefix")
	want := readCase(t, "target-prefix")
	for _, drv := range drivers {
		t.Run(drv, func(t *testing.T) {
			rec, base := newRawRecording(t, 0)
			target, _ := url.Parse("http://user:s3cret-pass@" + base.Host + "/base/?tenant=t1")
			results, st := replayCase(t, Config{Target: target}, drv, shape(t, path, shaper.Config{}))
			if st.Sent != int64(len(want)) || len(results) != len(want) {
				t.Fatalf("sent %d, %d results; want %d", st.Sent, len(results), len(want))
			}
			got := rec.all()
			sort.Slice(got, func(i, j int) bool { return seqOf(got[i]) < seqOf(got[j]) })
			basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("user:s3cret-pass"))
			for i, w := range want {
				a := got[i]
				q := "tenant=t1"
				if w.Query != "" {
					q = w.Query + "&tenant=t1"
				}
				if wt := "/base" + w.Path + "?" + q; a.target != wt || a.method != w.Method {
					t.Errorf("request %d: %s %s; want %s %s", i, a.method, a.target, w.Method, wt)
				}
				if auth, _ := a.header("Authorization"); auth != basic {
					t.Errorf("request %d: Authorization %q; want %q", i, auth, basic)
				}
				if ua, ok := a.header("User-Agent"); ok {
					t.Errorf("request %d: User-Agent %q added", i, ua)
				}
				// /login's password field is scrubbed at import (a
				// placeholder filled per user): not compared.
				if w.Path != "/login" && !bytes.Equal(a.body, w.Body) {
					t.Errorf("request %d: body %d bytes, want the %d recorded", i, len(a.body), len(w.Body))
				}
				var tags, wantTags []string
				for _, h := range a.headers {
					if h.Name == "X-Tag" {
						tags = append(tags, h.Value)
					}
				}
				for _, h := range w.Headers {
					if h.Name == "X-Tag" {
						wantTags = append(wantTags, h.Value)
					}
				}
				if strings.Join(tags, ",") != strings.Join(wantTags, ",") {
					t.Errorf("request %d: X-Tag %v; want %v", i, tags, wantTags)
				}
			}
			for _, r := range results {
				if r.Error != "" || r.Status != 200 {
					t.Errorf("result %d: %q %d", r.Seq, r.Error, r.Status)
				}
			}
		})
	}
}

// TestRedact: the password and secret-looking query values never appear in
// a printed or stored target.
func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		// user info: the password goes, the user stays
		{"http://user:s3cret-pass@127.0.0.1:8080/base/?tenant=t1", "http://user:xxxxx@127.0.0.1:8080/base/?tenant=t1"},
		// a token in the query
		{"http://127.0.0.1/?api_key=abc&x=1", "http://127.0.0.1/?api_key=xxxxx&x=1"},
		// nothing secret: unchanged
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.in)
		if got := Redact(u); got != tt.want {
			t.Errorf("Redact(%s) = %s; want %s", tt.in, got, tt.want)
		}
	}
}

// TestRawPathsAsRecorded: paths that are not valid URL escapes reach the
// target byte-exact with both drivers (net/http used to refuse them and
// report a protocol error of the target).
func TestRawPathsAsRecorded(t *testing.T) {
	paths := []string{"/promo/50%-off", "/a%2Fb", "/q?x=%zz&y=a+b", "/é/ü", "//double"}
	for _, drv := range drivers {
		t.Run(drv, func(t *testing.T) {
			rec, target := newRawRecording(t, 0)
			var reqs []shaper.Request
			for i, p := range paths {
				path, q, _ := strings.Cut(p, "?")
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
			for _, p := range paths {
				want := p
				if strings.HasPrefix(p, "//") && drv == DriverHTTP {
					want = "http://" + target.Host + p // absolute form (RFC 9112 §3.2.2)
				}
				if !got[want] {
					t.Errorf("%s never arrived as %q; arrived: %v", p, want, got)
				}
			}
		})
	}
}

// TestMergeQuery: the target's parameters are added; a recorded parameter
// the target names is replaced; everything else stays byte-exact.
func TestMergeQuery(t *testing.T) {
	tests := []struct{ recorded, target, want string }{
		{"", "", ""},                   // nothing
		{"a=1", "", "a=1"},             // recorded only
		{"", "tenant=t1", "tenant=t1"}, // target only
		{"q=caf%C3%A9&a=1&a=2", "tenant=t1", "q=caf%C3%A9&a=1&a=2&tenant=t1"}, // added, escapes kept
		{"tenant=prod&x=1", "tenant=t1", "x=1&tenant=t1"},                     // the target's tenant wins
	}
	for _, tt := range tests {
		if got := mergeQuery(tt.recorded, tt.target); got != tt.want {
			t.Errorf("mergeQuery(%q, %q) = %q; want %q", tt.recorded, tt.target, got, tt.want)
		}
	}
}

// TestFieldCaseTruncatedBody: a body kept in part is not sent cut as if
// whole: the request is dropped as dropped_truncated; SendTruncated sends
// the kept bytes.
func TestFieldCaseTruncatedBody(t *testing.T) {
	path := importCase(t, "truncated-body")
	for _, drv := range drivers {
		t.Run(drv, func(t *testing.T) {
			rec, target := newRawRecording(t, 0)
			results, st := replayCase(t, Config{Target: target}, drv, shape(t, path, shaper.Config{}))
			cut := 0
			for _, r := range results {
				if r.Error == schema.DroppedTruncated {
					cut++
				}
			}
			for _, a := range rec.all() {
				if len(a.body) == schema.MaxBody {
					t.Errorf("%s %s arrived with a body cut at %d bytes", a.method, a.target, len(a.body))
				}
			}
			if cut == 0 || st.Dropped != int64(cut) || int(st.Sent)+cut != len(results) {
				t.Errorf("%d dropped_truncated, stats %+v, %d results", cut, st, len(results))
			}

			rec2, target2 := newRawRecording(t, 0)
			_, st = replayCase(t, Config{Target: target2, SendTruncated: true}, drv, shape(t, path, shaper.Config{}))
			if st.Dropped != 0 || len(rec2.all()) != len(results) {
				t.Errorf("SendTruncated: stats %+v, %d arrived; want all %d", st, len(rec2.all()), len(results))
			}
		})
	}
}
