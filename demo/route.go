package demo

import (
	"net/http"
	"strings"
	"time"
)

// class is a route class: the routes that share a pool of capacity.
type class uint8

const (
	classSession class = iota
	classHome
	classBrowse
	classSearch
	classRecommendations
	classManifest
	classSegment
	classChat
	classHeartbeat
	numClasses
)

var classNames = [numClasses]string{
	"session", "home", "browse", "search", "recommendations",
	"manifest", "segment", "chat", "heartbeat",
}

func (c class) String() string { return classNames[c] }

func classByName(name string) (class, bool) {
	for c := range numClasses {
		if classNames[c] == name {
			return c, true
		}
	}
	return 0, false
}

// profile is how a class behaves: its service time range, its default
// capacity, and what a request needs.
type profile struct {
	min, max time.Duration
	capacity int
	post     bool // POST only; otherwise GET and HEAD
	auth     bool // a non-empty Authorization header is required
}

// profiles are the classes' behaviours. The service times are streamco's
// own (ranges around the sample's quiet-time medians, before network); the
// capacities are explained on DefaultCapacity.
var profiles = [numClasses]profile{
	classSession:         {min: 30 * ms, max: 80 * ms, capacity: 3, post: true},
	classHome:            {min: 15 * ms, max: 40 * ms, capacity: 4, auth: true},
	classBrowse:          {min: 10 * ms, max: 30 * ms, capacity: 6, auth: true},
	classSearch:          {min: 40 * ms, max: 120 * ms, capacity: 4, auth: true},
	classRecommendations: {min: 60 * ms, max: 150 * ms, capacity: 4, auth: true},
	classManifest:        {min: 2 * ms, max: 5 * ms, capacity: 12},
	classSegment:         {min: 5 * ms, max: 15 * ms, capacity: 8},
	classChat:            {min: 3 * ms, max: 10 * ms, capacity: 12, auth: true},
	classHeartbeat:       {min: 1 * ms, max: 3 * ms, capacity: 8, post: true, auth: true},
}

const ms = time.Millisecond

// match is a routed request: its class and the variable part of its path
// (the rail, the event, or the segment number).
type match struct {
	class class
	param string
	event string // live and chat routes
}

// route maps a path to its class. ok is false for paths streamco does not
// serve.
func route(path string) (m match, ok bool) {
	switch path {
	case "/api/v1/session":
		return match{class: classSession}, true
	case "/api/v1/home":
		return match{class: classHome}, true
	case "/api/v1/search":
		return match{class: classSearch}, true
	case "/api/v1/recommendations":
		return match{class: classRecommendations}, true
	case "/api/v1/heartbeat":
		return match{class: classHeartbeat}, true
	}
	if rail, ok := strings.CutPrefix(path, "/api/v1/browse/"); ok {
		return match{class: classBrowse, param: rail}, isSegment(rail)
	}
	if rest, ok := strings.CutPrefix(path, "/api/v1/chat/"); ok {
		event, ok := strings.CutSuffix(rest, "/messages")
		return match{class: classChat, event: event}, ok && isSegment(event)
	}
	if rest, ok := strings.CutPrefix(path, "/live/"); ok {
		event, file, ok := strings.Cut(rest, "/")
		if !ok || !isSegment(event) {
			return match{}, false
		}
		if file == "manifest.m3u8" {
			return match{class: classManifest, event: event}, true
		}
		num, ok := strings.CutPrefix(file, "seg-")
		num, ok2 := strings.CutSuffix(num, ".ts")
		return match{class: classSegment, event: event, param: num}, ok && ok2 && isDigits(num)
	}
	return match{}, false
}

// allows reports whether the class answers method, and the Allow header for
// a 405 otherwise.
func (c class) allows(method string) (ok bool, allow string) {
	if profiles[c].post {
		return method == http.MethodPost, http.MethodPost
	}
	return method == http.MethodGet || method == http.MethodHead, "GET, HEAD"
}

// isSegment reports whether s is one non-empty path segment.
func isSegment(s string) bool { return s != "" && !strings.Contains(s, "/") }

func isDigits(s string) bool {
	if s == "" || len(s) > 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
