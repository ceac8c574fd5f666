//go:build race

package accounts

// raceEnabled: the race detector instruments file reads with an allocation.
const raceEnabled = true
