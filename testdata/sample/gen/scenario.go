package main

import (
	"math"
	"time"
)

// The night, in UTC. The match clock is compressed so that the walk-in,
// kickoff, half-time and the drift away at the end all fit in 30 minutes.
var (
	windowStart = time.Date(2026, 11, 21, 19, 45, 0, 0, time.UTC) // first log line
	windowEnd   = time.Date(2026, 11, 21, 20, 15, 0, 0, time.UTC) // log rotated here
	streamStart = time.Date(2026, 11, 21, 19, 30, 0, 0, time.UTC) // channel on air (pre-match show)
	kickoff     = time.Date(2026, 11, 21, 19, 55, 0, 0, time.UTC)
	halfTime    = time.Date(2026, 11, 21, 20, 7, 0, 0, time.UTC)
	secondHalf  = time.Date(2026, 11, 21, 20, 9, 0, 0, time.UTC)
)

// The platform.
const (
	event     = "derby-20261121" // live event id: Northbridge v Rovers
	segDur    = 6 * time.Second  // HLS segment and target duration
	apiHost   = "api.streamco.example"
	liveHost  = "live.streamco.example"
	webOrigin = "https://www.streamco.example"
)

// Size of the crowd and how it behaves. Tuned so that the main log holds
// ~48k lines; arrivingSessions and viewBeatEvery drive the size of the
// sample most (views.csv has a line per viewer per minute).
const (
	inflightSessions = 170   // already watching the pre-match show at 19:45
	arrivingSessions = 2270  // sessions that start from arrivalStart on
	companionShare   = 0.03  // TV viewers with a phone open as a second screen
	edgeShare        = 0.015 // viewers whose playback this edge serves (others: CDN)
	chatShare        = 0.012 // viewers who keep the match chat open
	halfTimeChat     = 0.08  // viewers who open the chat at half-time
	harSessions      = 12    // desktop browser sessions in the HAR
	harCapture       = 90 * time.Second
	gorSessions      = 300 // sessions whose API traffic GoReplay captured
	heartbeatEvery   = 300 * time.Second
	viewBeatEvery    = 60 * time.Second // viewing-history heartbeat
)

// GoReplay ran on one API host for four minutes across kickoff.
var (
	gorStart = time.Date(2026, 11, 21, 19, 54, 0, 0, time.UTC)
	gorEnd   = time.Date(2026, 11, 21, 19, 58, 0, 0, time.UTC)
)

// segAt returns the newest segment in the live playlist at t.
func segAt(t time.Time) int {
	return int(t.Sub(streamStart) / segDur)
}

// bump is a bell curve of height 1 centred on at, width w.
func bump(t, at time.Time, w time.Duration) float64 {
	z := float64(t.Sub(at)) / float64(w)
	return math.Exp(-z * z)
}

// load is how busy the platform is at t, 1 at a quiet moment. It shapes
// latencies and the 5xx rate.
func load(t time.Time) float64 {
	return 1 +
		2.4*bump(t, kickoff.Add(25*time.Second), 80*time.Second) +
		1.5*bump(t, halfTime.Add(55*time.Second), 70*time.Second)
}

// chatter is how lively the match chat is at t, 1 at a quiet moment.
func chatter(t time.Time) float64 {
	return 1 +
		1.8*bump(t, kickoff.Add(40*time.Second), 90*time.Second) +
		1.2*bump(t, halfTime.Add(60*time.Second), 80*time.Second)
}

// arrivalStart is when the first new sessions arrive: a few minutes before
// the log begins, so the log opens on sessions already browsing.
var arrivalStart = windowStart.Add(-3 * time.Minute)

// arrivalRate is the relative rate of new sessions, by minutes after
// windowStart; values between knots are interpolated.
var arrivalRate = []struct{ min, rate float64 }{
	{-3, 0.9}, {0, 1.0}, {5, 1.4}, {8, 2.8}, {9.5, 7.5}, {10.3, 8.5}, {11.5, 3.4},
	{13, 1.1}, {20, 0.7}, {21.8, 0.9}, {22.5, 1.9}, {23.5, 1.7}, {24.5, 0.9},
	{26, 0.5}, {30, 0.35},
}

func rateAt(min float64) float64 {
	k := arrivalRate
	if min <= k[0].min {
		return k[0].rate
	}
	for i := 1; i < len(k); i++ {
		if min <= k[i].min {
			f := (min - k[i-1].min) / (k[i].min - k[i-1].min)
			return k[i-1].rate + f*(k[i].rate-k[i-1].rate)
		}
	}
	return k[len(k)-1].rate
}

// region is where a session is served from; X-Region carries its name.
type region struct {
	name   string
	weight float64
	rtt    time.Duration // client to edge round trip
	v4     [3]byte       // a /24 of the documentation ranges
	v4lo   byte          // host part range within v4
	v4hi   byte
	v6     uint16 // third group of the 2001:db8::/32 address
}

// A European match: most of the audience is in Europe.
var regions = []*region{
	{"eu-west", 0.41, 18 * time.Millisecond, [3]byte{198, 51, 100}, 1, 254, 0x10},
	{"eu-central", 0.30, 22 * time.Millisecond, [3]byte{203, 0, 113}, 1, 254, 0x20},
	{"us-east", 0.12, 85 * time.Millisecond, [3]byte{192, 0, 2}, 1, 99, 0x30},
	{"sa-east", 0.10, 120 * time.Millisecond, [3]byte{192, 0, 2}, 100, 179, 0x40},
	{"ap-south", 0.07, 140 * time.Millisecond, [3]byte{192, 0, 2}, 180, 254, 0x50},
}

// client is one kind of user agent.
type client struct {
	device  string
	ua      string
	weight  float64 // within its device
	browser bool    // a web browser: sends Referer and Origin, may be in the HAR
	family  string  // browser family for the HAR: chrome, firefox, safari
	h2      bool    // speaks HTTP/2 to the edge
	bitrate int     // bits per second of the rendition it plays
	ipv6    float64 // chance the session comes over IPv6
}

// devices is the device mix. watchRate is the chance a session of that
// device watches the match rather than just browsing; glance the chance a
// viewer only watches a few minutes (checking the score on the phone).
var devices = []struct {
	name                      string
	weight, watchRate, glance float64
}{
	{"tv", 0.33, 0.88, 0.05}, {"mobile", 0.30, 0.55, 0.35}, {"desktop", 0.19, 0.65, 0.12},
	{"tablet", 0.09, 0.70, 0.2}, {"console", 0.09, 0.88, 0.05},
}

func glanceRate(device string) float64 {
	for _, d := range devices {
		if d.name == device {
			return d.glance
		}
	}
	return 0
}

var clients = []*client{
	{device: "tv", weight: 0.42, bitrate: 1800000, ipv6: 0.3,
		ua: "Mozilla/5.0 (SMART-TV; LINUX; Tizen 9.0) AppleWebKit/537.36 (KHTML, like Gecko) 120.0.6099.5/9.0 TV Safari/537.36"},
	{device: "tv", weight: 0.28, bitrate: 1600000, ipv6: 0.3,
		ua: "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.270 Safari/537.36 WebAppManager"},
	{device: "tv", weight: 0.30, bitrate: 1800000, h2: true, ipv6: 0.3,
		ua: "StreamCo/9.2.0 (Linux; Android 14; BRAVIA 4K VH2 Build/UTT2.240709.001) ExoPlayerLib/2.19.1 AndroidTV"},
	{device: "mobile", weight: 0.30, bitrate: 1200000, h2: true, ipv6: 0.75,
		ua: "StreamCo/9.2.1 (iPhone; iOS 26.1; Scale/3.00)"},
	{device: "mobile", weight: 0.12, bitrate: 1200000, h2: true, browser: true, family: "safari", ipv6: 0.75,
		ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1"},
	{device: "mobile", weight: 0.38, bitrate: 800000, h2: true, ipv6: 0.7,
		ua: "StreamCo/9.2.0 (Android 16; SM-S931B) okhttp/4.12.0"},
	{device: "mobile", weight: 0.20, bitrate: 800000, h2: true, browser: true, family: "chrome", ipv6: 0.7,
		ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36"},
	{device: "desktop", weight: 0.40, bitrate: 1600000, h2: true, browser: true, family: "chrome", ipv6: 0.35,
		ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"},
	{device: "desktop", weight: 0.16, bitrate: 1800000, h2: true, browser: true, family: "chrome", ipv6: 0.35,
		ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"},
	{device: "desktop", weight: 0.09, bitrate: 1600000, h2: true, browser: true, family: "chrome", ipv6: 0.35,
		ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0"},
	{device: "desktop", weight: 0.17, bitrate: 1600000, h2: true, browser: true, family: "firefox", ipv6: 0.35,
		ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0"},
	{device: "desktop", weight: 0.04, bitrate: 1200000, h2: true, browser: true, family: "firefox", ipv6: 0.35,
		ua: "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0"},
	{device: "desktop", weight: 0.14, bitrate: 1800000, h2: true, browser: true, family: "safari", ipv6: 0.35,
		ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15"},
	{device: "tablet", weight: 0.45, bitrate: 1600000, h2: true, ipv6: 0.5,
		ua: "StreamCo/9.2.1 (iPad; iPadOS 26.1; Scale/2.00)"},
	{device: "tablet", weight: 0.30, bitrate: 1600000, h2: true, browser: true, family: "safari", ipv6: 0.5,
		ua: "Mozilla/5.0 (iPad; CPU OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1"},
	{device: "tablet", weight: 0.25, bitrate: 1200000, h2: true, browser: true, family: "chrome", ipv6: 0.5,
		ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"},
	{device: "console", weight: 0.62, bitrate: 1800000, ipv6: 0.4,
		ua: "Mozilla/5.0 (PlayStation; PlayStation 5/12.40) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.4 Safari/605.1.15"},
	{device: "console", weight: 0.18, bitrate: 1600000, ipv6: 0.4,
		ua: "Mozilla/5.0 (PlayStation 4 13.00) AppleWebKit/605.1.15 (KHTML, like Gecko)"},
	{device: "console", weight: 0.20, bitrate: 1800000, h2: true, ipv6: 0.4,
		ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox Series X) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edge/44.18363.8131"},
}

// Browse rails, and what people type into search before the match and at
// half-time.
var (
	rails         = []string{"live-now", "football", "trending", "continue-watching", "new-releases", "documentaries", "kids", "sport-highlights"}
	halfTimeRails = []string{"sport-highlights", "football", "trending", "live-now"}
	preQueries    = []string{"derby", "northbridge", "rovers", "northbridge rovers", "live football", "pre match", "lineups", "football live"}
	halfQueries   = []string{"highlights", "goal", "northbridge", "rovers", "stats", "half time", "derby highlights"}
)
