// Package demo owns surge's built-in demo target: an imitation of the API of
// "streamco", the streaming platform of the bundled match-night sample
// (testdata/sample), for surge demo and make demo to replay against.
//
// It serves the sample's routes with realistic, deterministically jittered
// service times and plausible JSON bodies, and it has a finite capacity per
// route class: when every slot of a class is busy a request queues, as load
// nears capacity service times grow, and a request that waits longer than
// Config.QueueTimeout gets 503 with Retry-After: 1. The default capacities
// are chosen so that the sample replayed at 1x stays healthy while at 3x the
// search, recommendations and session classes degrade and shed load.
//
// Routes (class in brackets; auth means a non-empty Authorization header is
// required, anything goes, including surge's {{secret:…}} placeholders):
//
//	POST /api/v1/session                        [session]          401 on an empty body (see Config.AcceptEmptyLogin)
//	GET  /api/v1/home                           [home]             auth
//	GET  /api/v1/browse/{rail}?page=N           [browse]           auth
//	GET  /api/v1/search?q=…                     [search]           auth
//	GET  /api/v1/recommendations?user=…         [recommendations]  auth
//	GET  /live/{event}/manifest.m3u8            [manifest]         ETag, 304 on If-None-Match
//	GET  /live/{event}/seg-{n}.ts               [segment]          2 KB of MPEG-TS packets
//	GET  /api/v1/chat/{event}/messages?since=…  [chat]             auth
//	POST /api/v1/heartbeat                      [heartbeat]        auth, 204
//	GET  /ws/chat/{event}                       WebSocket          chat messages and presence counts
//	GET  /ws/viewers/{event}                    WebSocket          the event's viewer count
//	POST /_demo/restart?down=2s                 control            close every WebSocket (1012), refuse upgrades for down
//
// The WebSocket feeds (ws_feed.go) send JSON messages with a sequence
// number per event stream and the producer's time; their capacity is a
// handshake rate (503 beyond it) and a number of open sockets (close code
// 1013 beyond it), see WSConfig, which can also inject faults (a skipped,
// duplicated or regressed sequence number, a delayed timestamp) at known
// frames for tests of ordering and staleness checks.
//
// GET routes also answer HEAD. Unknown paths get 404, known paths with the
// wrong method 405 with an Allow header, request bodies over 64 KB 413. The
// server only ever listens on a loopback address and speaks HTTP/1.1 and
// unencrypted HTTP/2 (prior knowledge).
package demo
