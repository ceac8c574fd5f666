//go:build !race

package profile

// raceOn is whether the tests run under the race detector.
const raceOn = false
