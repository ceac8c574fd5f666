package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// role is what a session came for.
type role int

const (
	roleViewer    role = iota // watches the match
	roleBrowser               // browses, searches and leaves without watching
	roleCompanion             // a phone next to a TV: chat and a little browsing
)

// session is one client session: one device, one cookie, one user.
type session struct {
	idx      int
	seed     uint64
	role     role
	inflight bool      // already watching at windowStart: no login in the window
	arrive   time.Time // first request (for inflight sessions: when playback began)
	user     string    // user id, the $remote_user of authenticated requests
	email    string
	sid      string // value of the sid cookie
	token    string // bearer token; replaced when a login issues a new one
	refresh  string // refresh token sent when resuming
	resume   bool   // resumes with a stored token instead of logging in
	expired  bool   // its stored token is rejected: 401, then a password login
	ip       string
	region   *region
	client   *client
	proto    string        // protocol on the request line: HTTP/1.1 or HTTP/2.0
	behind   time.Duration // how far behind the live edge the player plays
	tput     float64       // download throughput, bytes per second
	edge     bool          // playback (manifests, segments) goes through this edge
	chat     bool          // keeps the match chat open while watching
	har      bool          // recorded in the HAR
	gor      bool          // captured by GoReplay
}

// rng returns the session's random stream k. Each activity of a session
// draws from its own stream, so one activity's draws never shift another's.
func (s *session) rng(k uint64) *rand.Rand {
	return rand.New(rand.NewPCG(s.seed, uint64(s.idx)<<8|k))
}

// Random streams of the crowd and the writers; session streams are
// numbered by session index, far below these.
const (
	streamCrowd   = 1 << 62
	streamPick    = 1<<62 + 1
	streamArrive  = 1<<62 + 2
	streamGor     = 1<<62 + 3 // GoReplay payload ids
	streamGorPick = 1<<62 + 4
	streamWS      = 1 << 61 // + the WebSocket stretch's index
)

// newCrowd draws the night's sessions, ordered by arrival.
func newCrowd(seed uint64) []*session {
	r := rand.New(rand.NewPCG(seed, streamCrowd))
	users := map[string]bool{}
	var ss []*session
	for range inflightSessions {
		// Watching the pre-match show since some time before 19:45.
		at := windowStart.Add(-time.Duration(30+r.IntN(780)) * time.Second)
		s := newSession(r, users, at, roleViewer)
		s.inflight = true
		ss = append(ss, s)
	}
	for _, at := range arrivals(rand.New(rand.NewPCG(seed, streamArrive)), arrivingSessions) {
		ss = append(ss, newSession(r, users, at, roleBrowser))
	}
	// Second screens: a phone of the same user, at home (behind the same
	// IPv4 address as the TV), opened a little after the TV started.
	var comps []*session
	for _, s := range ss {
		if s.role != roleViewer || s.client.device != "tv" || r.Float64() >= companionShare {
			continue
		}
		at := s.arrive
		if at.Before(windowStart) {
			at = windowStart
		}
		at = at.Add(time.Duration(60+r.IntN(900)) * time.Second)
		c := newSession(r, nil, at, roleCompanion)
		c.user, c.email, c.region = s.user, s.email, s.region
		c.client = pickClient(r, "mobile")
		c.proto = protoOf(c.client)
		c.token = newToken(r, c.client.browser, c.user, at.Add(-time.Hour))
		if !strings.Contains(s.ip, ":") { // an IPv6 phone has an address of its own
			c.ip = s.ip
		}
		comps = append(comps, c)
	}
	ss = append(ss, comps...)
	slices.SortStableFunc(ss, func(a, b *session) int { return a.arrive.Compare(b.arrive) })
	for i, s := range ss {
		s.idx, s.seed = i, seed
	}
	pick(rand.New(rand.NewPCG(seed, streamPick)), ss)
	return ss
}

// arrivals draws n arrival times from arrivalStart to windowEnd from the
// arrivalRate curve.
func arrivals(r *rand.Rand, n int) []time.Time {
	secs := int(windowEnd.Sub(arrivalStart) / time.Second)
	cum := make([]float64, secs)
	total := 0.0
	for i := range secs {
		total += rateAt(arrivalStart.Add(time.Duration(i) * time.Second).Sub(windowStart).Minutes())
		cum[i] = total
	}
	out := make([]time.Time, n)
	for i := range out {
		u := r.Float64() * total
		sec, _ := slices.BinarySearch(cum, u)
		out[i] = arrivalStart.Add(time.Duration(sec)*time.Second + time.Duration(r.Int64N(int64(time.Second))))
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// newSession draws one session arriving at at. A roleBrowser session becomes
// a viewer with its device's watch rate.
func newSession(r *rand.Rand, users map[string]bool, at time.Time, ro role) *session {
	s := &session{arrive: at, role: ro}
	d := devices[weighted(r, len(devices), func(i int) float64 { return devices[i].weight })]
	if ro == roleBrowser && r.Float64() < d.watchRate {
		s.role = roleViewer
	}
	s.client = pickClient(r, d.name)
	s.proto = protoOf(s.client)
	s.region = regions[weighted(r, len(regions), func(i int) float64 { return regions[i].weight })]
	for {
		s.user = fmt.Sprintf("u%08d", 10000000+r.IntN(90000000))
		if users == nil || !users[s.user] {
			break
		}
	}
	if users != nil {
		users[s.user] = true
	}
	s.email = fmt.Sprintf("fan.%s@example.com", s.user[1:])
	s.ip = drawIP(r, s.region, s.client.ipv6)
	s.sid = randHex(r, 16)
	s.refresh = "rt_" + randHex(r, 20)
	s.token = newToken(r, s.client.browser, s.user, at.Add(-time.Duration(r.IntN(3000))*time.Second))
	s.resume = r.Float64() < 0.7
	s.expired = s.resume && r.Float64() < 0.07
	s.behind = time.Duration(15000+r.IntN(12000)) * time.Millisecond
	s.tput = 3.5e6 * lognorm(r, 0.5) / (1 + float64(s.region.rtt)/float64(200*time.Millisecond))
	return s
}

// pick marks which sessions play through this edge, keep the chat open and
// are in the HAR.
func pick(r *rand.Rand, ss []*session) {
	var desk []*session
	for _, s := range ss {
		if s.role != roleViewer {
			s.chat = s.role == roleCompanion
			continue
		}
		s.edge = r.Float64() < edgeShare
		s.chat = r.Float64() < chatShare
		if s.client.device == "desktop" && !s.arrive.Before(windowStart) && s.arrive.Before(windowEnd.Add(-harCapture)) {
			desk = append(desk, s)
		}
	}
	// HAR sessions spread over the night; their playback comes through
	// this edge so every HAR entry is also in the access log. Two of them
	// sit behind a proxy that speaks HTTP/1.1.
	for i := range harSessions {
		s := desk[(2*i+1)*len(desk)/(2*harSessions)]
		s.har, s.edge = true, true
		if i%6 == 4 {
			s.proto = "HTTP/1.1"
		}
	}
}

// pickGor marks the sessions GoReplay captured: gorSessions of those that
// sent API requests to it while it ran.
func pickGor(seed uint64, ss []*session, xs []*exchange) {
	active := make([]bool, len(ss))
	for _, x := range xs {
		if x.ep.host == apiHost && !x.start.Before(gorStart) && x.start.Before(gorEnd) {
			active[x.s.idx] = true
		}
	}
	var cands []*session
	for _, s := range ss {
		if active[s.idx] {
			cands = append(cands, s)
		}
	}
	r := rand.New(rand.NewPCG(seed, streamGorPick))
	for _, i := range r.Perm(len(cands))[:min(gorSessions, len(cands))] {
		cands[i].gor = true
	}
}

func pickClient(r *rand.Rand, device string) *client {
	var cs []*client
	for _, c := range clients {
		if c.device == device {
			cs = append(cs, c)
		}
	}
	return cs[weighted(r, len(cs), func(i int) float64 { return cs[i].weight })]
}

func protoOf(c *client) string {
	if c.h2 {
		return "HTTP/2.0"
	}
	return "HTTP/1.1"
}

// drawIP draws a client address from the documentation ranges: IPv4
// addresses are few and shared between sessions, as behind carrier NAT.
func drawIP(r *rand.Rand, rg *region, v6 float64) string {
	if r.Float64() < v6 {
		var a [16]byte
		a[0], a[1], a[2], a[3] = 0x20, 0x01, 0x0d, 0xb8
		a[4], a[5] = byte(rg.v6>>8), byte(rg.v6)
		a[6], a[7], a[14], a[15] = byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))
		return netip.AddrFrom16(a).String()
	}
	host := rg.v4lo + byte(r.IntN(int(rg.v4hi-rg.v4lo)+1))
	return netip.AddrFrom4([4]byte{rg.v4[0], rg.v4[1], rg.v4[2], host}).String()
}

// newToken returns a bearer token: the web player gets a JWT (signed with
// a key published here), the apps an opaque token. Both are fake secrets
// for the importer's scrubber to find.
func newToken(r *rand.Rand, jwt bool, user string, iat time.Time) string {
	if !jwt {
		b := make([]byte, 18)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	const head = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" // {"alg":"HS256","typ":"JWT"}
	claims := fmt.Sprintf(`{"sub":"%s","iat":%d}`, user, iat.Unix())
	body := head + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
	mac := hmac.New(sha256.New, []byte("surge-sample-not-a-secret"))
	mac.Write([]byte(body))
	return body + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func randHex(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return hex.EncodeToString(b)
}

// weighted draws an index in [0, n) with the given weights.
func weighted(r *rand.Rand, n int, w func(int) float64) int {
	total := 0.0
	for i := range n {
		total += w(i)
	}
	u := r.Float64() * total
	for i := range n {
		u -= w(i)
		if u < 0 {
			return i
		}
	}
	return n - 1
}
