package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"
)

// The WebSocket sessions: the web app's live feeds of the match page, as
// Chrome's developer tools export them (HAR entries with _resourceType
// "websocket" and their messages in _webSocketMessages). Every session that
// polls the match chat in the access log has the page open: over the same
// stretch it holds a chat/presence socket and a viewer-count socket on the
// API host, the feeds surge demo serves (demo/ws_feed.go).
const (
	wsChatEvery    = 2 * time.Second  // a chat message on the feed, at chatter 1
	wsViewersEvery = 5 * time.Second  // a viewer-count message
	wsPingEvery    = 30 * time.Second // the app's keep-alive on the viewer socket
	wsSayMean      = 90 * time.Second // between a viewer's own chat messages, at chatter 1
	wsGap          = 30 * time.Second // chat polls further apart than this end a stretch
)

// wsSpan is a stretch of one session's match page: from its first chat poll
// (or the start of the recording) to its last before a gap.
type wsSpan struct {
	s        *session
	from, to time.Time
	closed   bool // the page was closed before the recording ended
}

// wsSpans returns the stretches of chat polling of xs, by start time.
func wsSpans(xs []*exchange) []wsSpan {
	var chat []*exchange
	for _, x := range xs {
		if x.ep == epChat {
			chat = append(chat, x)
		}
	}
	slices.SortStableFunc(chat, func(a, b *exchange) int {
		if a.s.idx != b.s.idx {
			return a.s.idx - b.s.idx
		}
		return a.start.Compare(b.start)
	})
	var out []wsSpan
	open := map[*session]int{} // session → its latest span in out
	for _, x := range chat {
		i, ok := open[x.s]
		if ok && x.start.Sub(out[i].to) <= wsGap {
			out[i].to = x.end()
			continue
		}
		open[x.s] = len(out)
		out = append(out, wsSpan{s: x.s, from: x.start, to: x.end()})
	}
	for i := range out {
		// The recording began at windowStart: a page open before then
		// was reloaded as it began (a few seconds in).
		if out[i].from.Before(windowStart) {
			out[i].from = windowStart.Add(time.Duration(out[i].s.idx%20) * 250 * time.Millisecond)
		}
		// A page still polling in the last half-minute is open at the end.
		out[i].closed = out[i].to.Before(windowEnd.Add(-wsGap))
		if !out[i].closed {
			out[i].to = windowEnd
		}
	}
	slices.SortStableFunc(out, func(a, b wsSpan) int {
		if c := a.from.Compare(b.from); c != 0 {
			return c
		}
		return a.s.idx - b.s.idx
	})
	return out
}

// harWSMessage is one message of Chrome's _webSocketMessages: time in
// seconds since the epoch, opcode 1 (text).
type harWSMessage struct {
	Type   string  `json:"type"` // "send" or "receive"
	Time   float64 `json:"time"`
	Opcode int     `json:"opcode"`
	Data   string  `json:"data"`
}

// harWSEntry is a HAR entry of a WebSocket: the upgrade and its messages.
type harWSEntry struct {
	harEntry
	ResourceType string         `json:"_resourceType"`
	Messages     []harWSMessage `json:"_webSocketMessages"`
}

// writeWSHAR writes the WebSocket sessions as one HAR, a page per
// stretch, its two sockets as entries (one per line).
func writeWSHAR(w io.Writer, seed uint64, xs []*exchange) error {
	spans := wsSpans(xs)
	bw := bufio.NewWriter(w)
	bw.WriteString(`{"log":{"version":"1.2","creator":{"name":"surge testdata/sample/gen","version":"1"},"pages":[`)
	sep := "\n"
	for i, sp := range spans {
		writeJSON(bw, sep, harPage{
			StartedDateTime: isoMS(sp.from), ID: fmt.Sprintf("ws_%d", i+1), Title: "Northbridge v Rovers - Live | StreamCo",
			PageTimings: harPageTimings{OnContentLoad: 640, OnLoad: 990},
		})
		sep = ",\n"
	}
	bw.WriteString("\n],\"entries\":[")
	sep = "\n"
	for i, sp := range spans {
		r := rand.New(rand.NewPCG(seed, streamWS+uint64(i)))
		page := fmt.Sprintf("ws_%d", i+1)
		chatAt := sp.from.Add(time.Duration(200+r.IntN(300)) * time.Millisecond)
		viewersAt := chatAt.Add(time.Duration(20+r.IntN(60)) * time.Millisecond)
		writeJSON(bw, sep, wsEntry(r, sp, page, "chat", chatAt))
		sep = ",\n"
		writeJSON(bw, sep, wsEntry(r, sp, page, "viewers", viewersAt))
	}
	bw.WriteString("\n]}}\n")
	return bw.Flush()
}

// wsEntry is one socket of sp: the upgrade at at, the messages until sp.to.
func wsEntry(r *rand.Rand, sp wsSpan, page, feed string, at time.Time) harWSEntry {
	s := sp.s
	path := "/ws/" + feed + "/" + event
	key := make([]byte, 16)
	for i := range key {
		key[i] = byte(r.IntN(256))
	}
	hs := 25 + float64(s.region.rtt)/float64(time.Millisecond)
	e := harWSEntry{
		harEntry: harEntry{
			Pageref: page, StartedDateTime: isoMS(at),
			Time: round3(ms(sp.to.Sub(at))),
			Request: harRequest{
				Method: "GET", URL: "wss://" + apiHost + path, HTTPVersion: "HTTP/1.1",
				Cookies: []harPair{{"sid", s.sid}},
				Headers: []harPair{
					{"Host", apiHost}, {"Connection", "Upgrade"}, {"Pragma", "no-cache"}, {"Cache-Control", "no-cache"},
					{"User-Agent", s.client.ua}, {"Upgrade", "websocket"}, {"Origin", webOrigin},
					{"Sec-WebSocket-Version", "13"}, {"Accept-Encoding", "gzip, deflate, br, zstd"},
					{"Accept-Language", acceptLanguage[s.region.name]}, {"Cookie", "sid=" + s.sid},
					{"Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(key)},
				},
				QueryString: []harPair{}, HeadersSize: -1,
			},
			Response: harResponse{
				Status: 101, StatusText: "Switching Protocols", HTTPVersion: "HTTP/1.1", Cookies: []harPair{},
				Headers: []harPair{
					{"Upgrade", "websocket"}, {"Connection", "Upgrade"},
					{"Sec-WebSocket-Accept", base64.StdEncoding.EncodeToString(key[:15]) + "Aw="},
				},
				Content: harContent{MimeType: "x-unknown"}, HeadersSize: -1,
			},
			Timings: harTimings{Blocked: 0.4, DNS: -1, Connect: -1, SSL: -1, Send: 0, Wait: round3(hs), Receive: 0},
		},
		ResourceType: "websocket",
	}
	open := at.Add(time.Duration(hs * float64(time.Millisecond)))
	e.Messages = wsMessages(r, sp, feed, open)
	return e
}

// wsMessages are the messages of one socket open from open to sp.to, in
// time order: the client's subscription, its chat messages or keep-alives,
// and the feed's numbered, stamped messages (the numbers count from the
// channel going on air at streamStart, so a socket joins mid-stream).
func wsMessages(r *rand.Rand, sp wsSpan, feed string, open time.Time) []harWSMessage {
	var out []harWSMessage
	add := func(typ string, t time.Time, data string) {
		out = append(out, harWSMessage{Type: typ, Time: float64(t.UnixMicro()) / 1e6, Opcode: 1, Data: data})
	}
	add("send", open.Add(time.Duration(5+r.IntN(20))*time.Millisecond), fmt.Sprintf(`{"type":"subscribe","stream":"%s/%s"}`, feed, event))
	every := wsViewersEvery
	if feed == "chat" {
		every = wsChatEvery
	}
	// The feed: message n is produced at streamStart + n × every and
	// arrives a network trip later.
	trip := sp.s.region.rtt / 2
	for n := int64(open.Sub(streamStart)/every) + 1; ; n++ {
		prod := streamStart.Add(time.Duration(n) * every)
		got := prod.Add(trip + time.Duration(r.IntN(4000))*time.Microsecond)
		if !got.Before(sp.to) {
			break
		}
		stream := feed + "/" + event
		switch {
		case feed == "viewers":
			add("receive", got, fmt.Sprintf(`{"stream":"%s","seq":%d,"ts":%d,"viewers":%d}`, stream, n, prod.UnixMilli(), viewersAt(prod)))
		case n%5 == 0:
			add("receive", got, fmt.Sprintf(`{"stream":"%s","seq":%d,"ts":%d,"type":"presence","online":%d}`, stream, n, prod.UnixMilli(), viewersAt(prod)/40))
		default:
			add("receive", got, fmt.Sprintf(`{"stream":"%s","seq":%d,"ts":%d,"type":"chat","user":"u%08d","text":"%s"}`,
				stream, n, prod.UnixMilli(), r.IntN(1e8), wsChatLines[r.IntN(len(wsChatLines))]))
		}
	}
	// The client's own messages.
	if feed == "chat" {
		for t := open.Add(expo(r, wsSayMean)); t.Before(sp.to); t = t.Add(time.Duration(float64(expo(r, wsSayMean)) / chatter(t))) {
			add("send", t, fmt.Sprintf(`{"type":"say","text":"%s"}`, wsChatLines[r.IntN(len(wsChatLines))]))
		}
	} else {
		for t := open.Add(wsPingEvery); t.Before(sp.to); t = t.Add(wsPingEvery) {
			add("send", t, `{"type":"ping"}`)
		}
	}
	slices.SortStableFunc(out, func(a, b harWSMessage) int {
		switch {
		case a.Time < b.Time:
			return -1
		case a.Time > b.Time:
			return 1
		}
		return 0
	})
	return out
}

// viewersAt is the platform's viewer count at t: the crowd's shape, in
// round numbers.
func viewersAt(t time.Time) int {
	base := 1800.0
	if t.After(kickoff.Add(-2 * time.Minute)) {
		base = 2400
	}
	return int(base*(1+0.15*bump(t, halfTime.Add(time.Minute), 2*time.Minute))) / 10 * 10
}

// wsChatLines are what the crowd writes in the match chat.
var wsChatLines = []string{
	"what a save!!", "ref needs glasses", "come on Northbridge", "that was never offside",
	"GOAL", "anyone else watching from the pub?", "Rovers look tired", "half-time snacks sorted",
	"2-1 incoming", "best derby in years", "VAR again...", "unbelievable strike",
}
