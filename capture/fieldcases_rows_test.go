package capture

import (
	"strings"
	"testing"
	"time"

	"github.com/surge-replay/surge/schema"
)

// TestFieldCases asserts the right value of every field case (the table of
// testdata/field-cases/README.md), one row per file.
func TestFieldCases(t *testing.T) {
	tests := []struct {
		format, file string
		check        func(t *testing.T, fc fieldCase)
	}{
		// TLS, empty, scanner and RDP request lines are skipped with their
		// line and a reason; the real GET is kept.
		{"combined", "nginx-nonhttp-request-lines.log", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 1, 4)
			fc.wantProblems(t, []int64{1, 2, 3, 4}, "TLS", "empty request", "not an HTTP request", "RDP")
			if e := fc.events[0]; e.Path != "/" || e.Method != "GET" {
				t.Errorf("event %s %s; want GET /", e.Method, e.Path)
			}
		}},
		// No protocol is HTTP/1.0, an absolute URI gives host and query, a
		// literal space stays in the path, CONNECT is skipped.
		{"combined", "nginx-request-line-forms.log", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 4, 1)
			fc.wantProblems(t, []int64{3}, "CONNECT")
			e := fc.events
			if e[0].Path != "/index.html" || e[0].Protocol != schema.ProtoHTTP10 {
				t.Errorf("line 1: %s %s; want /index.html HTTP/1.0", e[0].Path, e[0].Protocol)
			}
			if e[1].Host != "example.com" || e[1].Path != "/api/items" || e[1].Query != "id=7" {
				t.Errorf("line 2: host %q path %q query %q; want example.com /api/items id=7", e[1].Host, e[1].Path, e[1].Query)
			}
			if e[2].Path != "/files/annual report 2014.pdf" {
				t.Errorf("line 4: path %q; want the literal space kept", e[2].Path)
			}
		}},
		// Start = log time - $request_time; upstream lists with ", ", " : "
		// and "-" parse.
		{"nginx", "nginx-upstream-time-lists.log", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 4, 0)
			for i, want := range []struct {
				start string
				ms    float64
			}{
				{"2026-11-21T19:59:59.984Z", 16},
				{"2026-11-21T20:00:00.750Z", 250},
				{"2026-11-21T20:00:02Z", 0},
				{"2026-11-21T20:00:02.988Z", 12},
			} {
				e := &fc.events[i]
				if !e.Time.Equal(utc(t, want.start)) || latencyMS(e) != want.ms {
					t.Errorf("event %d: start %v latency %v ms; want %s, %v ms", i, e.Time, latencyMS(e), want.start, want.ms)
				}
			}
		}},
		// $time_iso8601 with offsets; $host with and without a port.
		{"nginx", "nginx-time-iso8601-host.log", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 3, 0)
			for i, want := range []struct{ start, host string }{
				{"2019-07-31T06:33:05.962Z", "api.example.com"},
				{"2019-07-31T06:33:34.750Z", "www.example.com"},
				{"2019-07-31T06:34:05.937Z", "api.example.com:8443"},
			} {
				e := &fc.events[i]
				if !e.Time.Equal(utc(t, want.start)) || e.Host != want.host {
					t.Errorf("event %d: %v %s; want %s %s", i, e.Time, e.Host, want.start, want.host)
				}
			}
		}},
		// Starts are $msec - $request_time; the third line's long request
		// started before the second ended: disorder counted.
		{"nginx", "nginx-msec-epoch.log", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 3, 0)
			for i, want := range []string{"2017-11-01T22:25:21.644Z", "2017-11-01T22:25:21.501Z", "2017-11-01T22:25:22.752Z"} {
				_ = i
				found := false
				for _, e := range fc.events {
					found = found || e.Time.Equal(utc(t, want))
				}
				if !found {
					t.Errorf("no event starts at %s", want)
				}
			}
			if fc.rep.Disordered != 1 {
				t.Errorf("disordered %d; want 1", fc.rep.Disordered)
			}
		}},
		// nginx's main format (combined + X-Forwarded-For): trailing field ignored.
		{"combined", "nginx-main-format-as-combined.log", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 3, 0)
		}},
		// NUL bytes of a copytruncate rotation do not cost the first line.
		{"combined", "nginx-copytruncate-nul-prefix.log", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 3, 0)
			if fc.events[0].Path != "/a" {
				t.Errorf("first path %q; want /a", fc.events[0].Path)
			}
		}},
		// The 337 KB line is skipped with a clear reason; the others import.
		{"combined", "nginx-very-long-request-line.log", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 2, 1)
			fc.wantProblems(t, []int64{2}, "line too long")
		}},
		// A 101 upgrade keeps its real start; its request time (6.8 h) is the
		// tunnel's lifetime, not a latency.
		{"nginx", "nginx-websocket-101-long-request-time.log", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 3, 0)
			ws := fc.events[0]
			if !ws.Time.Equal(utc(t, "2017-02-03T05:02:56.752Z")) || ws.Protocol != schema.ProtoWebSocket {
				t.Fatalf("first event %v %s; want the WebSocket at 05:02:56.752Z", ws.Time, ws.Protocol)
			}
			if ws.LatencyNS != nil {
				t.Errorf("WebSocket latency %v; want unknown", time.Duration(*ws.LatencyNS))
			}
			if ws.ConnectionNS == nil || time.Duration(*ws.ConnectionNS) != 24388248*time.Millisecond {
				t.Errorf("WebSocket connection_ns %v; want 24388.248 s", ws.ConnectionNS)
			}
			for _, e := range fc.events[1:] {
				if e.LatencyNS == nil || e.ConnectionNS != nil {
					t.Errorf("%s: latency %v connection %v; want a latency and no connection duration", e.Path, e.LatencyNS, e.ConnectionNS)
				}
			}
		}},
		// One browser's recording: one session, entries in time order.
		{"har", "har-offsets-out-of-order.har", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 4, 0)
			if !fc.events[0].Time.Equal(utc(t, "2021-04-22T13:15:28.002Z")) {
				t.Errorf("first event at %v; want 13:15:28.002Z", fc.events[0].Time)
			}
			for i, ms := range []float64{1472, 1189, 720.5, 428} {
				if got := latencyMS(&fc.events[i]); got != ms {
					t.Errorf("event %d latency %v ms; want %v", i, got, ms)
				}
			}
			if fc.rep.Sessions != 1 {
				t.Errorf("%d sessions; want 1", fc.rep.Sessions)
			}
		}},
		// A startedDateTime without a zone offset is refused, clearly.
		{"har", "har-zoneless-started-datetime.har", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 0, 2)
			fc.wantProblems(t, []int64{0, 0}, "no time zone offset", "no time zone offset")
		}},
		// Blocked and aborted entries: status, size and latency unknown.
		{"har", "har-chrome-blocked-status0.har", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 3, 0)
			for _, e := range fc.events[1:] {
				if e.Status != nil || e.ResponseBytes != nil || e.LatencyNS != nil {
					t.Errorf("%s: status %v size %v latency %v; want all unknown", e.Path, e.Status, e.ResponseBytes, e.LatencyNS)
				}
			}
			if fc.events[0].StatusCode() != 200 {
				t.Errorf("document status %d; want 200", fc.events[0].StatusCode())
			}
		}},
		// A form post with only params: the body is rebuilt, its password
		// scrubbed and its username (a user identifier) hashed.
		{"har", "har-postdata-params-only.har", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 1, 0)
			body := string(fc.events[0].Body)
			if !strings.Contains(body, "username=u_") || strings.Contains(body, "admin") || strings.Contains(body, "hunter") || !strings.Contains(body, "password=") {
				t.Errorf("body %q; want the form rebuilt with the password scrubbed", body)
			}
			if n := fc.rep.Scrubbed.Fields + fc.rep.Scrubbed.Query; n < 1 {
				t.Errorf("scrubbed %+v; want the password counted", fc.rep.Scrubbed)
			}
		}},
		// A Chrome WebSocket entry is one wss WebSocket 101 event.
		{"har", "har-chrome-websocket-messages.har", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 1, 0)
			e := fc.events[0]
			if e.Scheme != "wss" || e.Protocol != schema.ProtoWebSocket || e.StatusCode() != 101 {
				t.Errorf("%s %s %d; want wss WebSocket 101", e.Scheme, e.Protocol, e.StatusCode())
			}
		}},
		// A large upload: body cut to the limit, its size and the response
		// size from the HAR.
		{"har", "har-large-upload-discarded-response-body.har", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 1, 0)
			e := fc.events[0]
			if e.BodySize != 111101 || !e.BodyTruncated || len(e.Body) != schema.MaxBody {
				t.Errorf("body %d bytes of %d, truncated %v; want %d of 111101, truncated", len(e.Body), e.BodySize, e.BodyTruncated, schema.MaxBody)
			}
			if e.ResponseBytes == nil || *e.ResponseBytes != 6268505 {
				t.Errorf("response_bytes %v; want 6268505", e.ResponseBytes)
			}
		}},
		// The old 3-field response meta carries the latency.
		{"gor", "gor-v014-three-field-response-meta.gor", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 1, 0)
			e := fc.events[0]
			if e.StatusCode() != 200 || e.ResponseBytes == nil || *e.ResponseBytes != 26 || latencyMS(&e) != 458.922218 {
				t.Errorf("status %d bytes %v latency %v ms; want 200, 26, 458.922218 ms", e.StatusCode(), e.ResponseBytes, latencyMS(&e))
			}
		}},
		// GoReplay 1.x: the 4th meta field is the capture span; latency is
		// response - request timestamp; the unanswered request has no
		// response facts.
		{"gor", "gor-v13-chunked-gzip-meta-duration.gor", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 2, 0)
			e := fc.events[0]
			if latencyMS(&e) != 12 || e.ResponseBytes == nil || *e.ResponseBytes != 53 || e.StatusCode() != 200 {
				t.Errorf("latency %v ms bytes %v status %d; want 12 ms, 53, 200", latencyMS(&e), e.ResponseBytes, e.StatusCode())
			}
			if u := fc.events[1]; u.Status != nil || u.LatencyNS != nil || u.ResponseBytes != nil || string(u.Body) != `{"event":"open"}` {
				t.Errorf("unanswered request: status %v latency %v bytes %v body %q; want no response facts", u.Status, u.LatencyNS, u.ResponseBytes, u.Body)
			}
		}},
		// A request glued after a complete one in the same payload is the
		// next request, not lost; the first body is exactly its
		// Content-Length.
		{"gor", "gor-missing-separator-glued-requests.gor", func(t *testing.T, fc fieldCase) {
			fc.wantEvents(t, 3, 0)
			var bodies []string
			for _, e := range fc.events {
				bodies = append(bodies, string(e.Body))
			}
			if bodies[0] != `{"id":"a1","imp":[{"id":1}]}` || bodies[1] != `{"id":"a2","imp":[{"id":2}]}` || fc.events[2].Path != "/healthz" {
				t.Errorf("bodies %q, last path %s; want a1, a2 and /healthz", bodies, fc.events[2].Path)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tt.check(t, importFieldCase(t, tt.format, tt.file))
		})
	}
}
