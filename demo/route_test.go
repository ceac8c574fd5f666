package demo

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func TestRoute(t *testing.T) {
	tests := []struct {
		path  string
		class class
		param string
		event string
		ok    bool
	}{
		{"/api/v1/session", classSession, "", "", true},                                   // login
		{"/api/v1/home", classHome, "", "", true},                                         // start screen
		{"/api/v1/browse/live-now", classBrowse, "live-now", "", true},                    // a rail
		{"/api/v1/browse/", 0, "", "", false},                                             // no rail
		{"/api/v1/browse/a/b", 0, "", "", false},                                          // too deep
		{"/api/v1/search", classSearch, "", "", true},                                     // search
		{"/api/v1/recommendations", classRecommendations, "", "", true},                   // recommendations
		{"/live/derby-20261121/manifest.m3u8", classManifest, "", "derby-20261121", true}, // playlist
		{"/live/derby-20261121/seg-150.ts", classSegment, "150", "derby-20261121", true},  // segment
		{"/live/derby-20261121/seg-.ts", 0, "", "", false},                                // no number
		{"/live/derby-20261121/seg-15a.ts", 0, "", "", false},                             // not a number
		{"/live//manifest.m3u8", 0, "", "", false},                                        // no event
		{"/live/derby/other.m3u8", 0, "", "", false},                                      // another file
		{"/api/v1/chat/derby-20261121/messages", classChat, "", "derby-20261121", true},   // chat
		{"/api/v1/chat//messages", 0, "", "", false},                                      // no event
		{"/api/v1/chat/derby/history", 0, "", "", false},                                  // another resource
		{"/api/v1/heartbeat", classHeartbeat, "", "", true},                               // heartbeat
		{"/api/v1/home/", 0, "", "", false},                                               // trailing slash
		{"/", 0, "", "", false},                                                           // root
		{"", 0, "", "", false},                                                            // nothing
	}
	for _, tt := range tests {
		m, ok := route(tt.path)
		if ok != tt.ok || (ok && (m.class != tt.class || m.param != tt.param || m.event != tt.event)) {
			t.Errorf("route(%q) = %+v, %v; want class %s, param %q, event %q, %v", tt.path, m, ok, tt.class, tt.param, tt.event, tt.ok)
		}
	}
}

func TestAllows(t *testing.T) {
	tests := []struct {
		class  class
		method string
		ok     bool
		allow  string
	}{
		{classSession, http.MethodPost, true, "POST"},      // login
		{classSession, http.MethodGet, false, "POST"},      // not a GET
		{classHeartbeat, http.MethodPut, false, "POST"},    // nor a PUT
		{classHome, http.MethodGet, true, "GET, HEAD"},     // GET
		{classSegment, http.MethodHead, true, "GET, HEAD"}, // HEAD like GET
		{classSearch, http.MethodPost, false, "GET, HEAD"}, // reads only
		{classChat, http.MethodDelete, false, "GET, HEAD"}, // reads only
	}
	for _, tt := range tests {
		if ok, allow := tt.class.allows(tt.method); ok != tt.ok || allow != tt.allow {
			t.Errorf("%s.allows(%s) = %v, %q; want %v, %q", tt.class, tt.method, ok, allow, tt.ok, tt.allow)
		}
	}
}

func TestQueryValue(t *testing.T) {
	tests := []struct {
		raw, key, want string
	}{
		{"page=2", "page", "2"},                       // the only parameter
		{"q=live+football&x=1", "q", "live football"}, // plus is a space
		{"a=1&q=caf%C3%A9", "q", "café"},              // escapes
		{"q=1&q=2", "q", "1"},                         // the first wins
		{"q", "q", ""},                                // no value
		{"q=%zz", "q", ""},                            // malformed
		{"", "q", ""},                                 // no query
		{"qq=1", "q", ""},                             // another key
	}
	for _, tt := range tests {
		if got := queryValue(tt.raw, tt.key); got != tt.want {
			t.Errorf("queryValue(%q, %q) = %q; want %q", tt.raw, tt.key, got, tt.want)
		}
	}
}

func TestPlaylist(t *testing.T) {
	start := time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC)
	l := newLive(start)
	tests := []struct {
		at   time.Duration
		seq  int64
		etag string
	}{
		{0, 141, `"141"`},                // 19:45: segment 150 is the latest
		{5 * time.Second, 141, `"141"`},  // the same until the next segment
		{6 * time.Second, 142, `"142"`},  // a new segment
		{10 * time.Minute, 241, `"241"`}, // 19:55, kickoff
	}
	for _, tt := range tests {
		p := l.playlist(start.Add(tt.at))
		if p.seq != tt.seq || p.etag != tt.etag {
			t.Errorf("playlist(+%v) = seq %d, etag %s; want %d, %s", tt.at, p.seq, p.etag, tt.seq, tt.etag)
		}
	}
	p := l.playlist(start)
	want := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:141\n" +
		"#EXT-X-PROGRAM-DATE-TIME:2026-11-21T19:44:06.000Z\n#EXTINF:6.000,\nseg-141.ts\n"
	if got := string(p.body); len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("playlist starts\n%s\nwant\n%s", got, want)
	}
	if n := len(p.body); n < 300 || n > 900 {
		t.Errorf("playlist is %d bytes; want a few hundred", n)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "northbridge rovers", `"quoted"\`, "caf\xc3\xa9", "\x00\x1f\x7f", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("appendJSONString(%q) = %s: %v", s, b, err)
		}
		if want := string([]rune(s)); got != want { // invalid UTF-8 becomes U+FFFD, as in []rune
			t.Errorf("appendJSONString(%q) decodes to %q; want %q", s, got, want)
		}
	})
}

func BenchmarkAppendBody(b *testing.B) {
	s, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{"/api/v1/home", "/api/v1/browse/football?page=2", "/api/v1/search?q=northbridge+rovers",
		"/api/v1/chat/derby-20261121/messages?since=1795290292450"} {
		b.Run(path, func(b *testing.B) {
			r, _ := http.NewRequest("GET", path, nil)
			r.Header.Set("Authorization", "Bearer x")
			m, _ := route(r.URL.Path)
			q := &request{m: m, r: r, now: fixedNow}
			buf := make([]byte, 0, 8<<10)
			b.ReportAllocs()
			for b.Loop() {
				buf = s.appendBody(buf[:0], q)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}
