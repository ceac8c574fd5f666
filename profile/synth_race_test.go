//go:build race

package profile

// raceOn is whether the tests run under the race detector (tests that
// write millions of events leave their event-level checks to the tests
// without it).
const raceOn = true
