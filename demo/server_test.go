package demo

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fixedNow is the wall clock of the route tests: kickoff of the sample.
var fixedNow = time.Date(2026, 11, 21, 19, 55, 0, 0, time.UTC)

// auth is the Authorization of the route tests: a placeholder as surge
// imports it.
const auth = "Bearer {{secret:3f9a1c}}"

// routeTest is one request of TestRoutes and what its response must be.
type routeTest struct {
	name        string
	method      string
	path        string
	auth        string
	body        string
	header      map[string]string // request headers
	status      int
	contentType string
	keys        []string          // top-level JSON keys the body must have
	prefix      string            // non-JSON body: what it starts with
	wantHeader  map[string]string // response headers
}

var routeTests = []routeTest{
	// A refresh-token login, the commonest request of the night.
	{"login", "POST", "/api/v1/session", "", `{"grant_type":"refresh_token","refresh_token":"{{secret:ab12}}"}`, nil,
		200, contentJSON, []string{"access_token", "token_type", "expires_in", "user"}, "", nil},
	// A login without a body is refused.
	{"login empty", "POST", "/api/v1/session", "", "", nil, 401, contentJSON, []string{"error"}, "", nil},
	// Logins are POST only.
	{"login GET", "GET", "/api/v1/session", auth, "", nil, 405, contentJSON, []string{"error"}, "", map[string]string{"Allow": "POST"}},
	// Bodies over 64 KB are not read.
	{"login huge", "POST", "/api/v1/session", "", strings.Repeat("x", 64<<10+1), nil, 413, contentJSON, []string{"error"}, "", nil},
	// The start screen.
	{"home", "GET", "/api/v1/home", auth, "", nil, 200, contentJSON, []string{"layout", "rails"}, "", map[string]string{"Cache-Control": "no-store"}},
	// Any non-empty Authorization is accepted, an absent one is not.
	{"home no auth", "GET", "/api/v1/home", "", "", nil, 401, contentJSON, []string{"error"}, "", map[string]string{"WWW-Authenticate": `Bearer realm="streamco"`}},
	// HEAD is answered like GET, without a body.
	{"home HEAD", "HEAD", "/api/v1/home", auth, "", nil, 200, contentJSON, nil, "", nil},
	// Other methods are not.
	{"home DELETE", "DELETE", "/api/v1/home", auth, "", nil, 405, contentJSON, []string{"error"}, "", map[string]string{"Allow": "GET, HEAD"}},
	// A rail's first page.
	{"browse", "GET", "/api/v1/browse/live-now?page=1", auth, "", nil, 200, contentJSON, []string{"rail", "page", "next_page", "items"}, "", nil},
	// A page past the end is empty.
	{"browse past end", "GET", "/api/v1/browse/kids?page=9", auth, "", nil, 200, contentJSON, []string{"rail", "items"}, "", nil},
	// A rail is required.
	{"browse no rail", "GET", "/api/v1/browse/", auth, "", nil, 404, contentJSON, []string{"error"}, "", nil},
	// Search as you type.
	{"search", "GET", "/api/v1/search?q=northbridge+rovers", auth, "", nil, 200, contentJSON, []string{"query", "total", "results"}, "", nil},
	// Queries with quotes and non-ASCII are echoed as valid JSON.
	{"search escaped", "GET", "/api/v1/search?q=%22caf%C3%A9%22%5C%01", auth, "", nil, 200, contentJSON, []string{"query", "results"}, "", nil},
	// Recommendations for a user.
	{"recommendations", "GET", "/api/v1/recommendations?user=u48098424", auth, "", nil, 200, contentJSON, []string{"user", "model", "items"}, "", nil},
	// The live playlist, without credentials as on a CDN.
	{"manifest", "GET", "/live/derby-20261121/manifest.m3u8", "", "", nil, 200, contentPlaylist, nil, "#EXTM3U\n", map[string]string{"ETag": `"141"`}},
	// A player reloading an unchanged playlist gets 304.
	{"manifest 304", "GET", "/live/derby-20261121/manifest.m3u8", auth, "", map[string]string{"If-None-Match": `"141"`}, 304, "", nil, "", nil},
	// A segment: MPEG-TS packets.
	{"segment", "GET", "/live/derby-20261121/seg-273.ts", "", "", nil, 200, contentTS, nil, "\x47\x41\x00\x10", nil},
	// Segment names are seg-{n}.ts.
	{"segment bad name", "GET", "/live/derby-20261121/seg-x.ts", "", "", nil, 404, contentJSON, []string{"error"}, "", nil},
	// Chat polling.
	{"chat", "GET", "/api/v1/chat/derby-20261121/messages?since=1795290292450", auth, "", nil, 200, contentJSON, []string{"event", "since", "messages", "next_since"}, "", nil},
	// Chat is read-only here.
	{"chat POST", "POST", "/api/v1/chat/derby-20261121/messages", auth, "hi", nil, 405, contentJSON, []string{"error"}, "", nil},
	// Heartbeats get 204.
	{"heartbeat", "POST", "/api/v1/heartbeat", auth, `{"state":"playing"}`, nil, 204, "", nil, "", nil},
	// Heartbeats need credentials.
	{"heartbeat no auth", "POST", "/api/v1/heartbeat", "", `{"state":"playing"}`, nil, 401, contentJSON, []string{"error"}, "", nil},
	// Heartbeats are POST only.
	{"heartbeat GET", "GET", "/api/v1/heartbeat", auth, "", nil, 405, contentJSON, []string{"error"}, "", nil},
	// Routes streamco does not have.
	{"unknown", "GET", "/api/v2/home", auth, "", nil, 404, contentJSON, []string{"error"}, "", nil},
	// Not even the root.
	{"root", "GET", "/", auth, "", nil, 404, contentJSON, []string{"error"}, "", nil},
}

func TestRoutes(t *testing.T) {
	srv, err := New(Config{
		Now:      func() time.Time { return fixedNow },
		Capacity: map[string]int{"session": 50, "home": 50, "browse": 50, "search": 50, "recommendations": 50},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() }) // after the parallel subtests

	for _, tt := range routeTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkRoute(t, ts, tt)
		})
	}
}

// checkRoute sends tt's request to ts and checks the response.
func checkRoute(t *testing.T, ts *httptest.Server, tt routeTest) {
	req, err := http.NewRequest(tt.method, ts.URL+tt.path, strings.NewReader(tt.body))
	if err != nil {
		t.Fatal(err)
	}
	if tt.auth != "" {
		req.Header.Set("Authorization", tt.auth)
	}
	for k, v := range tt.header {
		req.Header.Set(k, v)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != tt.status {
		t.Fatalf("%s %s: status = %d; want %d (body %.200s)", tt.method, tt.path, resp.StatusCode, tt.status, body)
	}
	if got := resp.Header.Get("Content-Type"); got != tt.contentType {
		t.Errorf("%s %s: Content-Type = %q; want %q", tt.method, tt.path, got, tt.contentType)
	}
	checkLength(t, resp, body, tt.method)
	for k, v := range tt.wantHeader {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s %s: %s = %q; want %q", tt.method, tt.path, k, got, v)
		}
	}
	if tt.prefix != "" && !bytes.HasPrefix(body, []byte(tt.prefix)) {
		t.Errorf("%s %s: body starts %.40q; want prefix %q", tt.method, tt.path, body, tt.prefix)
	}
	if tt.keys != nil {
		checkKeys(t, body, tt.keys)
	}
}

func checkLength(t *testing.T, resp *http.Response, body []byte, method string) {
	t.Helper()
	cl := resp.Header.Get("Content-Length")
	switch {
	case resp.StatusCode == 204 || resp.StatusCode == 304:
		if len(body) != 0 {
			t.Errorf("status %d with a %d-byte body", resp.StatusCode, len(body))
		}
	case method == "HEAD":
		if cl == "" || cl == "0" || len(body) != 0 {
			t.Errorf("HEAD: Content-Length %q, body %d bytes; want the GET length and no body", cl, len(body))
		}
	case resp.ContentLength != int64(len(body)) || cl == "":
		t.Errorf("Content-Length = %q; body is %d bytes", cl, len(body))
	}
}

// checkKeys checks that body is a JSON object with every key.
func checkKeys(t *testing.T, body []byte, keys []string) {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		t.Fatalf("body is not a JSON object: %v: %.200s", err, body)
	}
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			t.Errorf("body has no %q: %.200s", k, body)
		}
	}
}

func TestBodyShapes(t *testing.T) {
	s, err := New(Config{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		items   string // the array field to count
		n       int    // its length; -1: any
		minSize int    // bytes
		maxSize int
	}{
		// A browse page has ten titles and a few KB.
		{"browse", "/api/v1/browse/football?page=2", "items", 10, 1500, 6000},
		// The last page has no next page but still ten titles.
		{"browse last", "/api/v1/browse/football?page=3", "items", 10, 1500, 6000},
		// Recommendations: eight titles.
		{"recommendations", "/api/v1/recommendations?user=u1", "items", 8, 1200, 5000},
		// An empty query has no results.
		{"search empty", "/api/v1/search?q=", "results", 0, 10, 200},
		// A query has 0–8 results.
		{"search", "/api/v1/search?q=derby", "results", -1, 10, 4000},
		// Chat: 3–10 messages.
		{"chat", "/api/v1/chat/derby/messages?since=1795290292450", "messages", -1, 200, 3000},
		// The home screen: five rails.
		{"home", "/api/v1/home", "rails", 5, 3000, 10000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := route(strings.Split(tt.path, "?")[0])
			r := httptest.NewRequest("GET", tt.path, nil)
			r.Header.Set("Authorization", "Bearer x")
			body := s.appendBody(nil, &request{m: m, r: r, now: fixedNow})
			if len(body) < tt.minSize || len(body) > tt.maxSize {
				t.Errorf("%s: body is %d bytes; want %d–%d", tt.path, len(body), tt.minSize, tt.maxSize)
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(body, &obj); err != nil {
				t.Fatalf("%s: %v: %s", tt.path, err, body)
			}
			var arr []json.RawMessage
			if err := json.Unmarshal(obj[tt.items], &arr); err != nil {
				t.Fatalf("%s: %s: %v", tt.path, tt.items, err)
			}
			if tt.n >= 0 && len(arr) != tt.n {
				t.Errorf("%s: len(%s) = %d; want %d", tt.path, tt.items, len(arr), tt.n)
			}
		})
	}
}

func TestStartServesLoopback(t *testing.T) {
	srv, err := Start(Config{Addr: "localhost:0"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Errorf("URL() = %q; want http://127.0.0.1:PORT", srv.URL())
	}
	// HTTP/1.1 and HTTP/2 with prior knowledge.
	for _, h2 := range []bool{false, true} {
		var p http.Protocols
		p.SetHTTP1(!h2)
		p.SetUnencryptedHTTP2(h2)
		client := &http.Client{Transport: &http.Transport{Protocols: &p}, Timeout: 5 * time.Second}
		req, _ := http.NewRequest("GET", srv.URL()+"/api/v1/browse/kids?page=1", nil)
		req.Header.Set("Authorization", "Bearer test")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != map[bool]int{false: 1, true: 2}[h2] {
			t.Errorf("h2=%v: %s %s; want 200", h2, resp.Proto, resp.Status)
		}
		client.CloseIdleConnections()
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close() = %v; want nil", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close() = %v; want nil", err)
	}
	if resp, err := http.Get(srv.URL() + "/api/v1/home"); err == nil {
		resp.Body.Close()
		t.Errorf("GET after Close: %s; want a connection error", resp.Status)
	}
	if st, _ := srv.Stats().Class("browse"); st.Served != 2 {
		t.Errorf("browse served = %d; want 2", st.Served)
	}
}

func TestCloseNew(t *testing.T) {
	srv, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := srv.Close(); err != nil {
			t.Errorf("Close() #%d = %v; want nil", i+1, err)
		}
	}
	// A closed server turns requests away.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/home", nil)
	req.Header.Set("Authorization", "Bearer x")
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("after Close: %d, Retry-After %q; want 503, 1", rec.Code, rec.Header().Get("Retry-After"))
	}
}
