package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// world collects what every session did.
type world struct {
	xs    []*exchange
	views []*view
}

// simulate plays every session of the crowd.
func simulate(ss []*session) *world {
	w := &world{}
	for _, s := range ss {
		(&agent{w: w, s: s}).run()
	}
	return w
}

// agent plays one session. Its activities (the start-up calls, playback,
// heartbeats, chat, half-time browsing) run on independent timers in a real
// client, so each is simulated on its own, with its own random stream.
type agent struct {
	w *world
	s *session
}

// Random streams of a session's activities.
const (
	rngStart = iota + 1
	rngPlan
	rngPlayback
	rngHeartbeat
	rngChat
	rngHalfTime
	rngViews
	rngWander
)

// span is a stretch of uninterrupted watching.
type span struct {
	from, to time.Time
}

func (a *agent) run() {
	s := a.s
	t := s.arrive
	if !s.inflight {
		var ok bool
		if t, ok = a.start(s.rng(rngStart), t); !ok {
			return // could not log in: gave up
		}
	}
	switch s.role {
	case roleBrowser:
		r := s.rng(rngWander)
		a.wander(r, t, t.Add(lognormal(r, 80*time.Second, 0.7)))
	case roleCompanion:
		r := s.rng(rngChat)
		leave := windowEnd.Add(time.Hour)
		if r.Float64() < 0.3 {
			leave = t.Add(time.Duration(120+r.IntN(900)) * time.Second)
		}
		a.chat(r, t.Add(think(r, 2*time.Second)), leave)
		if t.Before(halfTime) && leave.After(secondHalf) && r.Float64() < 0.6 {
			a.halfTimeBrowse(s.rng(rngHalfTime), halfTime.Add(expo(r, 30*time.Second)))
		}
	case roleViewer:
		a.watch(t)
	}
}

// watch runs a viewer from the moment the browsing is done.
func (a *agent) watch(t time.Time) {
	s := a.s
	r := s.rng(rngPlan)
	from := t.Add(think(r, 1500*time.Millisecond))
	if s.inflight {
		from = s.arrive
	} else if from.Before(kickoff.Add(-90*time.Second)) && r.Float64() < 0.55 {
		// Early: wait for kickoff, some browsing on while they wait.
		wait := kickoff.Add(-time.Duration(r.IntN(120))*time.Second + expo(r, 40*time.Second))
		if r.Float64() < 0.3 {
			a.wander(s.rng(rngWander), from, wait.Add(-5*time.Second))
		}
		if wait.After(from) {
			from = wait
		}
	}
	spans, leaves := plan(r, from, glanceRate(s.client.device))
	for i, sp := range spans {
		stops := leaves || i < len(spans)-1
		if s.edge {
			a.playback(s.rng(rngPlayback+uint64(i)<<4), sp, stops)
		}
		a.heartbeats(s.rng(rngHeartbeat+uint64(i)<<4), sp, stops)
		if s.chat {
			a.chat(s.rng(rngChat+uint64(i)<<4), sp.from.Add(think(r, 3*time.Second)), sp.to)
		}
	}
	a.views(s.rng(rngViews), spans)
	// Half-time: people who were watching browse, search and chat.
	if watchingAt(spans, halfTime) {
		h := s.rng(rngHalfTime)
		paused := len(spans) > 1
		at := halfTime.Add(expo(h, 40*time.Second))
		if h.Float64() < 0.25 || paused && h.Float64() < 0.8 {
			a.halfTimeBrowse(h, at)
		}
		if !s.chat && h.Float64() < halfTimeChat {
			a.chat(h, at.Add(think(h, 4*time.Second)), secondHalf.Add(time.Duration(h.IntN(90))*time.Second))
		}
	}
}

// plan decides when a viewer starting at from stops watching: glancers
// (with probability glance) watch a few minutes, others leave at a random
// time, at half-time or towards the end; some pause at half-time and come
// back for the second half. leaves is false when the viewer is still
// watching when the log ends.
func plan(r *rand.Rand, from time.Time, glance float64) (spans []span, leaves bool) {
	leave := windowEnd.Add(time.Hour)
	switch u := r.Float64(); {
	case u < glance:
		leave = from.Add(lognormal(r, 4*time.Minute, 0.6))
	case u < glance+0.06:
		leave = from.Add(60*time.Second + time.Duration(r.Float64()*float64(windowEnd.Sub(from))))
	case u < glance+0.11:
		leave = halfTime.Add(time.Duration(r.IntN(100)) * time.Second)
	case u < glance+0.36:
		leave = windowEnd.Add(-time.Duration(r.IntN(240)) * time.Second)
	}
	if !leave.After(from.Add(30 * time.Second)) {
		leave = windowEnd.Add(time.Hour)
	}
	leaves = leave.Before(windowEnd)
	pause := halfTime.Add(expo(r, 20*time.Second))
	back := secondHalf.Add(expo(r, 30*time.Second))
	if from.Before(halfTime) && leave.After(back.Add(time.Minute)) && r.Float64() < 0.15 {
		return []span{{from, pause}, {back, leave}}, leaves
	}
	return []span{{from, leave}}, leaves
}

func watchingAt(spans []span, t time.Time) bool {
	for _, sp := range spans {
		if !t.Before(sp.from) && t.Before(sp.to) {
			return true
		}
	}
	return false
}

// start logs in, loads home and browses a little. It returns when the user
// is done with the start-up, and false if the login never succeeded.
func (a *agent) start(r *rand.Rand, t time.Time) (time.Time, bool) {
	s := a.s
	t, ok := a.login(r, t)
	if !ok {
		return t, false
	}
	t = t.Add(think(r, 400*time.Millisecond))
	home := a.call(r, a.get(t, epHome, "/api/v1/home"))
	if r.Float64() < 0.75 { // apps load the recommendations next to home
		a.call(r, a.get(t.Add(time.Duration(20+r.IntN(60))*time.Millisecond), epRecs, "/api/v1/recommendations?user="+s.user))
	}
	t = home.end()
	// How many rails they look at (weights of 0, 1, 2, ...) and how often
	// they search.
	railCount, searchP := []float64{20, 35, 25, 12, 8}, 0.25
	if s.role == roleViewer && t.After(kickoff.Add(-time.Minute)) {
		railCount, searchP = []float64{55, 35, 10}, 0.08 // the match is on: straight to it
	}
	if s.role == roleCompanion {
		railCount, searchP = []float64{70, 30}, 0.05
	}
	for range weighted(r, len(railCount), func(i int) float64 { return railCount[i] }) {
		t = a.browse(r, t.Add(think(r, 3*time.Second)), pickRail(r, s.role))
	}
	if r.Float64() < searchP {
		t = a.search(r, t.Add(think(r, 4*time.Second)), preQueries)
	}
	return t, true
}

func pickRail(r *rand.Rand, ro role) string {
	if ro == roleViewer && r.Float64() < 0.4 {
		return "live-now"
	}
	return rails[r.IntN(len(rails))]
}

// login resumes with the stored token or logs in with a password. An
// expired token gets a 401, then the user types the password. A wrong
// password is a 401 too; after three failures the user gives up.
func (a *agent) login(r *rand.Rand, t time.Time) (time.Time, bool) {
	s := a.s
	if s.resume {
		x := a.post(t, epSession, "/api/v1/session", fmt.Sprintf(
			`{"grant_type":"refresh_token","refresh_token":"%s","device":"%s"}`, s.refresh, s.client.device))
		x.denied = s.expired
		if x = a.call(r, x); x.status < 300 {
			return x.end(), true
		}
		t = x.end().Add(think(r, 9*time.Second)) // typing the password
	}
	password := "fake-" + randHex(r, 5)
	for range 3 {
		x := a.post(t, epSession, "/api/v1/session", fmt.Sprintf(
			`{"grant_type":"password","username":"%s","password":"%s","device":"%s"}`, s.email, password, s.client.device))
		x.auth = ""
		x.denied = r.Float64() < 0.03
		if x = a.call(r, x); x.status < 300 {
			if s.expired {
				s.token = newToken(r, s.client.browser, s.user, x.end())
			}
			return x.end(), true
		}
		t = x.end().Add(think(r, 6*time.Second))
	}
	return t, false
}

// browse loads a rail, and maybe its next pages.
func (a *agent) browse(r *rand.Rand, t time.Time, rail string) time.Time {
	for page := 1; page <= 3; page++ {
		x := a.call(r, a.get(t, epBrowse, fmt.Sprintf("/api/v1/browse/%s?page=%d", rail, page)))
		t = x.end()
		if r.Float64() > 0.3 {
			break
		}
		t = t.Add(think(r, 2500*time.Millisecond))
	}
	return t
}

// search types a query; the search box asks as you type (debounced), so a
// query often comes with one or two of its prefixes first.
func (a *agent) search(r *rand.Rand, t time.Time, queries []string) time.Time {
	q := queries[r.IntN(len(queries))]
	n := 1 + r.IntN(3)
	var x *exchange
	for i := n; i >= 1; i-- {
		p := q[:max(3, len(q)*(n-i+1)/n)]
		x = a.call(r, a.get(t, epSearch, "/api/v1/search?q="+url.QueryEscape(p)))
		t = t.Add(time.Duration(300+r.IntN(600)) * time.Millisecond)
	}
	return x.end()
}

// wander browses until until: rails, searches, recommendations.
func (a *agent) wander(r *rand.Rand, t, until time.Time) {
	for t.Before(until) && t.Before(windowEnd) {
		switch u := r.Float64(); {
		case u < 0.55:
			t = a.browse(r, t, rails[r.IntN(len(rails))])
		case u < 0.75:
			t = a.search(r, t, preQueries)
		case u < 0.88:
			t = a.call(r, a.get(t, epRecs, "/api/v1/recommendations?user="+a.s.user)).end()
		default:
			t = a.call(r, a.get(t, epHome, "/api/v1/home")).end()
		}
		t = t.Add(think(r, 9*time.Second))
	}
}

// halfTimeBrowse is the half-time stroll: home, highlights, a search.
func (a *agent) halfTimeBrowse(r *rand.Rand, t time.Time) {
	if r.Float64() < 0.4 {
		t = a.call(r, a.get(t, epHome, "/api/v1/home")).end().Add(think(r, 2*time.Second))
	}
	for range 1 + r.IntN(3) {
		t = a.browse(r, t, halfTimeRails[r.IntN(len(halfTimeRails))]).Add(think(r, 3*time.Second))
	}
	if r.Float64() < 0.35 {
		t = a.search(r, t, halfQueries).Add(think(r, 3*time.Second))
	}
	if r.Float64() < 0.5 {
		a.call(r, a.get(t, epRecs, "/api/v1/recommendations?user="+a.s.user))
	}
}

// chat polls the match chat every 5-10 s from from until to.
func (a *agent) chat(r *rand.Rand, from, to time.Time) {
	since := from.Add(-30 * time.Second).UnixMilli()
	for t := from; t.Before(to) && t.Before(windowEnd); {
		x := a.do(r, a.get(t, epChat, fmt.Sprintf("/api/v1/chat/%s/messages?since=%d", event, since)))
		if x.status == http.StatusOK {
			since = x.start.Add(-time.Duration(r.IntN(800)) * time.Millisecond).UnixMilli()
		}
		t = x.end().Add(time.Duration(5000+r.IntN(5000)) * time.Millisecond)
	}
}

// heartbeats reports playback every few minutes while watching, and (often)
// once more when playback stops.
func (a *agent) heartbeats(r *rand.Rand, sp span, stops bool) {
	t := sp.from.Add(time.Duration(5+r.IntN(25)) * time.Second)
	for ; t.Before(sp.to) && t.Before(windowEnd); t = t.Add(heartbeatEvery + time.Duration(r.IntN(20000)-10000)*time.Millisecond) {
		a.call(r, a.heartbeat(t, "playing"))
	}
	if stops && r.Float64() < 0.6 {
		a.do(r, a.heartbeat(sp.to.Add(time.Duration(50+r.IntN(200))*time.Millisecond), "stopped"))
	}
}

func (a *agent) heartbeat(t time.Time, state string) *exchange {
	return a.post(t, epHeartbeat, "/api/v1/heartbeat", fmt.Sprintf(
		`{"event":"%s","state":"%s","position_ms":%d,"bitrate":%d}`, event, state, a.s.position(t), a.s.client.bitrate))
}

// position is the live position the player shows at t, in ms since the
// stream began.
func (s *session) position(t time.Time) int64 {
	return t.Sub(streamStart.Add(s.behind)).Milliseconds()
}

// get, post and call build and send requests.

func (a *agent) get(t time.Time, ep *endpoint, target string) *exchange {
	return a.request(t, ep, http.MethodGet, target)
}

func (a *agent) post(t time.Time, ep *endpoint, target, body string) *exchange {
	x := a.request(t, ep, http.MethodPost, target)
	x.body = []byte(body)
	return x
}

func (a *agent) request(t time.Time, ep *endpoint, method, target string) *exchange {
	x := &exchange{s: a.s, ep: ep, start: t, method: method, target: target}
	if ep != epSegment { // segments are fetched without the Authorization header
		x.auth = "Bearer " + a.s.token
	}
	if a.s.client.browser {
		x.referer = referer(ep, target)
	}
	return x
}

// referer is the page a browser shows when it sends a request to ep.
func referer(ep *endpoint, target string) string {
	switch ep {
	case epBrowse:
		rail, _, _ := strings.Cut(strings.TrimPrefix(target, "/api/v1/browse/"), "?")
		return webOrigin + "/browse/" + rail
	case epSearch:
		return webOrigin + "/search"
	case epChat, epHeartbeat, epManifest, epSegment:
		return webOrigin + "/live/" + event
	}
	return webOrigin + "/"
}

// do sends x and records it.
func (a *agent) do(r *rand.Rand, x *exchange) *exchange {
	respond(r, x)
	x.id = len(a.w.xs)
	a.w.xs = append(a.w.xs, x)
	return x
}

// call sends x and, after a 5xx, retries it once after a back-off.
func (a *agent) call(r *rand.Rand, x *exchange) *exchange {
	if x = a.do(r, x); x.status < 500 {
		return x
	}
	y := *x
	y.start = x.end().Add(time.Duration(800+r.IntN(2200)) * time.Millisecond)
	return a.do(r, &y)
}

// expo draws an exponential wait with the given mean.
func expo(r *rand.Rand, mean time.Duration) time.Duration {
	return time.Duration(r.ExpFloat64() * float64(mean))
}
