// Package replay owns running a shaped schedule against a target: the
// open-loop clock (a pacer on its own OS thread sleeping to absolute
// deadlines), session runners (timeline and closed loop), the protocol
// drivers (a lean HTTP/1.1 client for plain keep-alive replay, net/http for
// HTTP/2 and TLS), per-region DNS (each region's resolvers, source
// address and client subnet; connections never shared across regions:
// Region), placeholder substitution, and safety (target allowlist, resolved
// addresses included, rate cap, abort conditions, graceful stop).
//
// A request is sent at its scheduled time whether or not earlier ones were
// answered. Every request yields a schema.Result: latency is measured from the
// intended time (no coordinated omission) and from the actual send, and the
// generator's own lateness is recorded, so a saturated generator is never
// mistaken for a slow target.
package replay
