package demo

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Content types of the responses.
const (
	contentJSON     = "application/json"
	contentPlaylist = "application/vnd.apple.mpegurl"
	contentTS       = "video/mp2t"
)

// Error bodies, built once.
var (
	bodyUnauthorized = []byte(`{"error":"unauthorized","message":"missing or invalid credentials"}`)
	bodyNotFound     = []byte(`{"error":"not_found","message":"no such route"}`)
	bodyNotAllowed   = []byte(`{"error":"method_not_allowed","message":"method not allowed on this route"}`)
	bodyTooLarge     = []byte(`{"error":"payload_too_large","message":"request body over 64 KB"}`)
	bodyOverloaded   = []byte(`{"error":"overloaded","message":"service busy, retry shortly"}`)
)

// homeVariants is how many home screens there are; a user's Authorization
// header picks one.
const homeVariants = 4

// homes are the home screens, built once.
var homes = buildHomes()

func buildHomes() [homeVariants][]byte {
	var out [homeVariants][]byte
	for v := range out {
		b := []byte(`{"layout":"tv-home-v3","rails":[`)
		for i := range 5 {
			rail := rails[(v+i*2)%len(rails)]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":"`...)
			b = append(b, rail...)
			b = append(b, `","href":"/api/v1/browse/`...)
			b = append(b, rail...)
			b = append(b, `?page=1","items":`...)
			b = appendItems(b, uint64(v*13+i*5), 4)
			b = append(b, '}')
		}
		out[v] = append(b, `],"ttl_s":60}`...)
	}
	return out
}

// request is what a response depends on.
type request struct {
	m      match
	r      *http.Request
	now    time.Time
	seq    uint64 // the class's request number
	body   int    // length of the request body
	bodyID uint64 // hash of the request body
}

// appendBody appends the JSON body of a successful API response for q to
// dst. Live routes are answered elsewhere.
func (s *Server) appendBody(dst []byte, q *request) []byte {
	raw := q.r.URL.RawQuery
	switch q.m.class {
	case classSession:
		return appendSession(dst, q.seq^s.seed, q.bodyID)
	case classHome:
		v := hashString(s.seed, q.r.Header.Get("Authorization")) % homeVariants
		return append(dst, homes[v]...)
	case classBrowse:
		return appendBrowse(dst, s.seed, q.m.param, queryValue(raw, "page"))
	case classSearch:
		return appendSearch(dst, s.seed, queryValue(raw, "q"))
	case classRecommendations:
		return appendRecommendations(dst, s.seed, queryValue(raw, "user"))
	case classChat:
		return appendChat(dst, s.seed, q.m.event, queryValue(raw, "since"), q.now)
	}
	return dst
}

func appendSession(dst []byte, token, user uint64) []byte {
	dst = append(dst, `{"access_token":"demo.`...)
	dst = strconv.AppendUint(dst, splitmix64(token), 36)
	dst = append(dst, `","token_type":"Bearer","expires_in":3600,"refresh_token":"demo.r.`...)
	dst = strconv.AppendUint(dst, splitmix64(token+1), 36)
	dst = append(dst, `","user":{"id":"u`...)
	dst = strconv.AppendUint(dst, 10000000+user%90000000, 10)
	dst = append(dst, `","plan":"premium","country":"GB","profiles":[{"id":"p1","name":"Main","kids":false},`+
		`{"id":"p2","name":"Kids","kids":true}]},"features":{"live":true,"chat":true,"downloads":true,"uhd":true}}`...)
	return dst
}

// browsePageSize is the number of titles on a browse page; rails have
// browsePages pages.
const (
	browsePageSize = 10
	browsePages    = 3
)

func appendBrowse(dst []byte, seed uint64, rail, pageParam string) []byte {
	page, err := strconv.Atoi(pageParam)
	if err != nil || page < 1 {
		page = 1
	}
	n := browsePageSize
	if page > browsePages {
		n = 0
	}
	dst = append(dst, `{"rail":`...)
	dst = appendJSONString(dst, rail)
	dst = append(dst, `,"page":`...)
	dst = strconv.AppendInt(dst, int64(page), 10)
	dst = append(dst, `,"next_page":`...)
	if page < browsePages {
		dst = strconv.AppendInt(dst, int64(page+1), 10)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"items":`...)
	dst = appendItems(dst, hashString(seed, rail)+uint64(page*browsePageSize), n)
	return append(dst, '}')
}

func appendSearch(dst []byte, seed uint64, q string) []byte {
	n := 0
	if strings.TrimSpace(q) != "" {
		n = int(hashString(seed, q) % 9)
	}
	dst = append(dst, `{"query":`...)
	dst = appendJSONString(dst, q)
	dst = append(dst, `,"total":`...)
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, `,"results":`...)
	dst = appendItems(dst, hashString(seed+1, q), n)
	return append(dst, '}')
}

func appendRecommendations(dst []byte, seed uint64, user string) []byte {
	dst = append(dst, `{"user":`...)
	dst = appendJSONString(dst, user)
	dst = append(dst, `,"model":"als-2026.11","items":`...)
	dst = appendItems(dst, hashString(seed, user), 8)
	return append(dst, '}')
}

// appendChat appends the chat messages of event after since (Unix ms):
// 3–10 messages, spread between since and now.
func appendChat(dst []byte, seed uint64, event, sinceParam string, now time.Time) []byte {
	nowMS := now.UnixMilli()
	since, err := strconv.ParseInt(sinceParam, 10, 64)
	if err != nil || since <= 0 || since > nowMS {
		since = nowMS - 10_000
	}
	h := hashString(seed, event+sinceParam)
	n := 3 + int(h%8)
	dst = append(dst, `{"event":`...)
	dst = appendJSONString(dst, event)
	dst = append(dst, `,"since":`...)
	dst = strconv.AppendInt(dst, since, 10)
	dst = append(dst, `,"messages":[`...)
	for i := range n {
		h = splitmix64(h)
		if i > 0 {
			dst = append(dst, ',')
		}
		ts := since + (nowMS-since)*int64(i+1)/int64(n+1)
		dst = append(dst, `{"id":"m`...)
		dst = strconv.AppendUint(dst, h%1_000_000_000, 10)
		dst = append(dst, `","user":"fan`...)
		dst = strconv.AppendUint(dst, h>>32%10000, 10)
		dst = append(dst, `","text":`...)
		dst = appendJSONString(dst, chatLines[h>>48%uint64(len(chatLines))])
		dst = append(dst, `,"ts":`...)
		dst = strconv.AppendInt(dst, ts, 10)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"next_since":`...)
	dst = strconv.AppendInt(dst, nowMS, 10)
	return append(dst, `,"poll_after_ms":5000}`...)
}

// queryValue returns the first value of key in the raw query, unescaped
// ("" when absent or malformed). It does not build a url.Values map.
func queryValue(raw, key string) string {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != key {
			continue
		}
		if !strings.ContainsAny(v, "%+") {
			return v
		}
		u, err := url.QueryUnescape(v)
		if err != nil {
			return ""
		}
		return u
	}
	return ""
}
