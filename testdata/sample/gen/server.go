package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// endpoint is what the platform does for one kind of request.
type endpoint struct {
	name    string
	host    string
	ctype   string        // response Content-Type
	server  time.Duration // median time to first byte at load 1
	loadExp float64       // how strongly load slows it down
	fail    float64       // weight of its 5xx chance
	min     int64         // response body size range of a 200
	max     int64
}

var (
	epSession   = &endpoint{"session", apiHost, "application/json", 85 * time.Millisecond, 1.3, 1.5, 2100, 3300}
	epHome      = &endpoint{"home", apiHost, "application/json", 55 * time.Millisecond, 1.0, 1.0, 28000, 40000}
	epBrowse    = &endpoint{"browse", apiHost, "application/json", 40 * time.Millisecond, 1.0, 1.0, 9000, 24000}
	epSearch    = &endpoint{"search", apiHost, "application/json", 110 * time.Millisecond, 1.4, 1.5, 2000, 14000}
	epRecs      = &endpoint{"recommendations", apiHost, "application/json", 75 * time.Millisecond, 1.2, 1.2, 6000, 18000}
	epChat      = &endpoint{"chat", apiHost, "application/json", 18 * time.Millisecond, 1.0, 0.8, 2000, 5000}
	epHeartbeat = &endpoint{"heartbeat", apiHost, "application/json", 12 * time.Millisecond, 0.8, 0.6, 0, 0}
	epManifest  = &endpoint{"manifest", liveHost, "application/vnd.apple.mpegurl", 6 * time.Millisecond, 0.6, 0.7, 0, 0}
	epSegment   = &endpoint{"segment", liveHost, "video/mp2t", 14 * time.Millisecond, 0.4, 0.5, 0, 0}
)

// badSegments were lost by the packager: every request for them is a 404.
var badSegments = map[int]bool{segAt(kickoff) + 23: true, segAt(halfTime) + 31: true, segAt(halfTime) + 32: true}

// exchange is one simulated request and the edge's response to it.
type exchange struct {
	id      int
	s       *session
	ep      *endpoint
	start   time.Time
	wait    time.Duration // until the first response byte
	receive time.Duration // sending the response body
	method  string
	target  string // path and query, as on the request line
	body    []byte // request body
	auth    string // Authorization header value, "" when none is sent
	referer string // "" when none is sent
	status  int
	bytes   int64 // response body bytes sent
	seg     int   // segment number of a segment or manifest request

	denied    bool // the credentials it carries are bad: 401
	unchanged bool // a manifest the client already has: 304
}

func (x *exchange) latency() time.Duration { return x.wait + x.receive }
func (x *exchange) end() time.Time         { return x.start.Add(x.latency()) }

// remoteUser is the user id of an authenticated request, else "-".
func (x *exchange) remoteUser() string {
	if x.auth == "" || x.status == http.StatusUnauthorized {
		return "-"
	}
	return x.s.user
}

// respond decides the status, size and timing of x's response, as the edge
// under load at x.start would.
func respond(r *rand.Rand, x *exchange) {
	ld := load(x.start)
	server := lognormal(r, x.ep.server, 0.45) * time.Duration(1000*math.Pow(ld, x.ep.loadExp)) / 1000
	if r.Float64() < 0.004 {
		server *= time.Duration(3 + r.IntN(6)) // the slow tail: GC pause, cold cache
	}
	x.wait = server + x.s.region.rtt/2
	x.status = http.StatusOK
	switch p := x.ep.fail * (0.0012 + 0.007*math.Pow(ld-1, 1.6)); {
	case r.Float64() < p:
		x.status, x.wait = failure(r, ld, x.wait)
	case x.denied:
		x.status = http.StatusUnauthorized
	case x.ep == epSegment && badSegments[x.seg]:
		x.status = http.StatusNotFound
	case x.unchanged:
		x.status = http.StatusNotModified
	case x.ep == epHeartbeat:
		x.status = http.StatusNoContent
	}
	x.bytes = bodySize(r, x)
	x.receive = time.Duration(float64(x.bytes) / x.s.tput * float64(time.Second))
	if x.bytes > 14600 { // more than the initial congestion window: more round trips
		x.receive += x.s.region.rtt * time.Duration(1+min(x.bytes/200000, 3))
	}
	x.receive += time.Duration(r.IntN(400)) * time.Microsecond
}

// failure picks a 5xx: at quiet times mostly upstream resets, under load
// also the rate limiter (503, fast) and upstream timeouts (504 after the
// 10 s proxy_read_timeout).
func failure(r *rand.Rand, ld float64, wait time.Duration) (int, time.Duration) {
	u := r.Float64()
	switch {
	case ld > 1.8 && u < 0.45:
		return http.StatusServiceUnavailable, time.Duration(1+r.IntN(4)) * time.Millisecond
	case u < 0.75:
		return http.StatusBadGateway, wait / 2
	case u < 0.9:
		return http.StatusGatewayTimeout, 10*time.Second + time.Duration(r.IntN(3))*time.Millisecond
	default:
		return http.StatusInternalServerError, wait
	}
}

// bodySize returns the response body size of x.
func bodySize(r *rand.Rand, x *exchange) int64 {
	switch x.status {
	case http.StatusOK:
	case http.StatusNoContent, http.StatusNotModified:
		return 0
	case http.StatusUnauthorized, http.StatusInternalServerError:
		return int64(len(apiError(x.status)))
	default:
		return int64(len(errorPage(x.status)))
	}
	switch x.ep {
	case epManifest:
		return int64(len(manifest(x.seg)))
	case epSegment:
		return int64(float64(x.s.client.bitrate) * segDur.Seconds() / 8 * (0.9 + 0.2*r.Float64())) // VBR
	case epChat:
		n := x.ep.min + r.Int64N(x.ep.max-x.ep.min)
		return int64(float64(n) * chatter(x.start) * (0.8 + 0.4*r.Float64()))
	}
	return x.ep.min + r.Int64N(x.ep.max-x.ep.min+1)
}

// manifest is the live media playlist whose newest segment is n: a sliding
// window of the last 10 segments.
func manifest(n int) string {
	var b strings.Builder
	first := n - 9
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:%d\n#EXT-X-INDEPENDENT-SEGMENTS\n", first)
	for i := first; i <= n; i++ {
		pdt := streamStart.Add(time.Duration(i) * segDur)
		fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:6.000,\nseg-%d.ts\n", pdt.Format("2006-01-02T15:04:05.000Z"), i)
	}
	return b.String()
}

// errorPage is nginx's own error page for status.
func errorPage(status int) string {
	t := fmt.Sprintf("%d %s", status, http.StatusText(status))
	return "<html>\r\n<head><title>" + t + "</title></head>\r\n<body>\r\n<center><h1>" + t +
		"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
}

// apiError is the API's JSON error body for status.
func apiError(status int) string {
	if status == http.StatusUnauthorized {
		return `{"error":"unauthorized","message":"token expired or invalid"}`
	}
	return `{"error":"internal","message":"something went wrong, please retry"}`
}

// lognormal draws around median with log-spread sigma.
func lognormal(r *rand.Rand, median time.Duration, sigma float64) time.Duration {
	return time.Duration(float64(median) * lognorm(r, sigma))
}

func lognorm(r *rand.Rand, sigma float64) float64 { return math.Exp(sigma * r.NormFloat64()) }

// think is a user's pause between actions: long-tailed around median.
func think(r *rand.Rand, median time.Duration) time.Duration {
	return min(max(lognormal(r, median, 0.8), 300*time.Millisecond), 12*median)
}
