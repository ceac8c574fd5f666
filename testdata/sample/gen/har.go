package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), the parts a
// browser's export fills.
type (
	harPage struct {
		StartedDateTime string         `json:"startedDateTime"`
		ID              string         `json:"id"`
		Title           string         `json:"title"`
		PageTimings     harPageTimings `json:"pageTimings"`
	}
	harPageTimings struct {
		OnContentLoad float64 `json:"onContentLoad"`
		OnLoad        float64 `json:"onLoad"`
	}
	harEntry struct {
		Pageref         string      `json:"pageref"`
		StartedDateTime string      `json:"startedDateTime"`
		Time            float64     `json:"time"`
		Request         harRequest  `json:"request"`
		Response        harResponse `json:"response"`
		Cache           struct{}    `json:"cache"`
		Timings         harTimings  `json:"timings"`
	}
	harRequest struct {
		Method      string    `json:"method"`
		URL         string    `json:"url"`
		HTTPVersion string    `json:"httpVersion"`
		Cookies     []harPair `json:"cookies"`
		Headers     []harPair `json:"headers"`
		QueryString []harPair `json:"queryString"`
		PostData    *harPost  `json:"postData,omitempty"`
		HeadersSize int       `json:"headersSize"`
		BodySize    int       `json:"bodySize"`
	}
	harPost struct {
		MimeType string `json:"mimeType"`
		Text     string `json:"text"`
	}
	harResponse struct {
		Status      int        `json:"status"`
		StatusText  string     `json:"statusText"`
		HTTPVersion string     `json:"httpVersion"`
		Cookies     []harPair  `json:"cookies"`
		Headers     []harPair  `json:"headers"`
		Content     harContent `json:"content"`
		RedirectURL string     `json:"redirectURL"`
		HeadersSize int        `json:"headersSize"`
		BodySize    int64      `json:"bodySize"`
	}
	harContent struct {
		Size     int64  `json:"size"`
		MimeType string `json:"mimeType"`
	}
	harPair struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	harTimings struct {
		Blocked float64 `json:"blocked"`
		DNS     float64 `json:"dns"`
		Connect float64 `json:"connect"`
		Send    float64 `json:"send"`
		Wait    float64 `json:"wait"`
		Receive float64 `json:"receive"`
		SSL     float64 `json:"ssl"`
	}
)

// writeHAR writes one HAR with a page per HAR session: what its browser's
// developer tools recorded in the first harCapture of the session. One page
// or entry per line.
func writeHAR(w io.Writer, ss []*session, xs []*exchange) error {
	pages := map[*session]string{}
	bw := bufio.NewWriter(w)
	bw.WriteString(`{"log":{"version":"1.2","creator":{"name":"surge testdata/sample/gen","version":"1"},"pages":[`)
	sep := "\n"
	for _, s := range ss {
		if !s.har {
			continue
		}
		pages[s] = fmt.Sprintf("page_%d", len(pages)+1)
		load := float64(600 + s.idx%400)
		writeJSON(bw, sep, harPage{
			StartedDateTime: isoMS(s.arrive), ID: pages[s], Title: "Northbridge v Rovers - Live | StreamCo",
			PageTimings: harPageTimings{OnContentLoad: load, OnLoad: load + 350},
		})
		sep = ",\n"
	}
	bw.WriteString("\n],\"entries\":[")
	var es []*exchange
	for _, x := range xs {
		if x.s.har && x.start.Before(x.s.arrive.Add(harCapture)) && x.end().Before(windowEnd) {
			es = append(es, x)
		}
	}
	slices.SortFunc(es, func(a, b *exchange) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return a.id - b.id
	})
	sep = "\n"
	for _, x := range es {
		writeJSON(bw, sep, harEntryOf(x, pages[x.s]))
		sep = ",\n"
	}
	bw.WriteString("\n]}}\n")
	return bw.Flush()
}

func writeJSON(w *bufio.Writer, sep string, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // plain structs of strings and numbers: cannot fail
	w.WriteString(sep)
	w.Write(bytes.TrimSuffix(b.Bytes(), []byte{'\n'}))
}

func harEntryOf(x *exchange, page string) harEntry {
	s := x.s
	version := harVersion(s)
	_, query, _ := strings.Cut(x.target, "?")
	req := harRequest{
		Method: x.method, URL: "https://" + x.ep.host + x.target, HTTPVersion: version,
		Cookies: []harPair{{"sid", s.sid}}, Headers: harRequestHeaders(x, version),
		QueryString: queryPairs(query), HeadersSize: -1, BodySize: len(x.body),
	}
	if len(x.body) > 0 {
		req.PostData = &harPost{MimeType: "application/json", Text: string(x.body)}
	}
	body := x.bytes
	blocked := 0.2 + float64(x.id%23)*0.11
	t := harTimings{Blocked: blocked, DNS: -1, Connect: -1, SSL: -1, Send: 0.08, Wait: ms(x.wait), Receive: ms(x.receive)}
	return harEntry{
		Pageref: page, StartedDateTime: isoMS(x.start),
		Time:    round3(t.Blocked + t.Send + t.Wait + t.Receive),
		Request: req,
		Response: harResponse{
			Status: x.status, StatusText: statusText(x.status), HTTPVersion: version,
			Cookies: []harPair{}, Headers: harResponseHeaders(x, version),
			Content: harContent{Size: body, MimeType: mimeOf(x)}, HeadersSize: -1, BodySize: body,
		},
		Timings: t,
	}
}

// harVersion is the protocol as the browser's export names it: Chrome says
// http/2.0, Firefox and Safari HTTP/2.
func harVersion(s *session) string {
	switch {
	case s.proto == "HTTP/1.1":
		return "HTTP/1.1"
	case s.client.family == "chrome":
		return "http/2.0"
	}
	return "HTTP/2"
}

func harRequestHeaders(x *exchange, version string) []harPair {
	s := x.s
	var hs []harPair
	h2 := version != "HTTP/1.1"
	add := func(name, value string) {
		if value == "" {
			return
		}
		if h2 {
			name = strings.ToLower(name)
		}
		hs = append(hs, harPair{name, value})
	}
	if version == "http/2.0" { // Chrome lists the pseudo-headers
		hs = append(hs, harPair{":authority", x.ep.host}, harPair{":method", x.method},
			harPair{":path", x.target}, harPair{":scheme", "https"})
	} else if !h2 {
		add("Host", x.ep.host)
	}
	add("User-Agent", s.client.ua)
	accept := "*/*"
	if x.ep.host == apiHost {
		accept = "application/json"
	}
	add("Accept", accept)
	add("Accept-Language", acceptLanguage[s.region.name])
	add("Accept-Encoding", "gzip, deflate, br, zstd")
	if len(x.body) > 0 {
		add("Content-Type", "application/json")
		add("Content-Length", fmt.Sprint(len(x.body)))
	}
	add("Origin", webOrigin)
	add("Referer", x.referer)
	add("Authorization", x.auth)
	add("X-Region", s.region.name)
	add("Cookie", "sid="+s.sid)
	if !h2 {
		add("Connection", "keep-alive")
	}
	return hs
}

var acceptLanguage = map[string]string{
	"eu-west":    "en-GB,en;q=0.9",
	"eu-central": "de-DE,de;q=0.9,en;q=0.8",
	"us-east":    "en-US,en;q=0.9",
	"sa-east":    "pt-BR,pt;q=0.9,en;q=0.8",
	"ap-south":   "en-IN,en;q=0.9,hi;q=0.8",
}

func harResponseHeaders(x *exchange, version string) []harPair {
	var hs []harPair
	add := func(name, value string) {
		if version != "HTTP/1.1" {
			name = strings.ToLower(name)
		}
		hs = append(hs, harPair{name, value})
	}
	add("Server", "nginx")
	add("Date", x.end().Format(http.TimeFormat))
	if x.status != http.StatusNoContent && x.status != http.StatusNotModified {
		add("Content-Type", mimeOf(x))
		add("Content-Length", fmt.Sprint(x.bytes))
	}
	switch x.ep {
	case epManifest:
		add("Cache-Control", "max-age=2")
		add("ETag", fmt.Sprintf(`"m-%d"`, x.seg))
	case epSegment:
		add("Cache-Control", "max-age=31536000, immutable")
	default:
		add("Cache-Control", "private, no-store")
	}
	add("Access-Control-Allow-Origin", webOrigin)
	add("Access-Control-Allow-Credentials", "true")
	return hs
}

// mimeOf is the Content-Type of x's response.
func mimeOf(x *exchange) string {
	switch x.status {
	case http.StatusOK, http.StatusNotModified, http.StatusNoContent:
		return x.ep.ctype
	case http.StatusUnauthorized, http.StatusInternalServerError:
		return "application/json"
	}
	return "text/html"
}

// queryPairs splits a query in order (url.ParseQuery returns a map).
func queryPairs(query string) []harPair {
	ps := []harPair{}
	for _, kv := range strings.Split(query, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		// The generator wrote these with url.QueryEscape: they unescape.
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		ps = append(ps, harPair{k, v})
	}
	return ps
}

func isoMS(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
