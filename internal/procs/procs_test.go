package procs

import (
	"runtime"
	"testing"
)

func TestReserve(t *testing.T) {
	start := runtime.GOMAXPROCS(0)
	steps := []struct {
		name string
		op   func() func()
		want int // GOMAXPROCS after the step, over start
	}{
		// Nothing to reserve: GOMAXPROCS is left alone.
		{"zero", func() func() { return Reserve(0) }, 0},
		// The pacer's thread.
		{"one", func() func() { return Reserve(1) }, 1},
		// A second run in the same process adds its own.
		{"two more", func() func() { return Reserve(2) }, 3},
	}
	var releases []func()
	for _, s := range steps {
		releases = append(releases, s.op())
		if got := runtime.GOMAXPROCS(0) - start; got != s.want {
			t.Fatalf("%s: GOMAXPROCS = start+%d, want start+%d", s.name, got, s.want)
		}
	}
	if Reserved() != 3 {
		t.Fatalf("Reserved() = %d, want 3", Reserved())
	}
	releases[1]()
	releases[1]() // a second call gives nothing back twice
	if got := runtime.GOMAXPROCS(0) - start; got != 2 {
		t.Fatalf("after releasing one: GOMAXPROCS = start+%d, want start+2", got)
	}
	releases[2]()
	releases[0]()
	if got := runtime.GOMAXPROCS(0); got != start || Reserved() != 0 {
		t.Fatalf("after releasing all: GOMAXPROCS = %d (reserved %d), want %d (0)", got, Reserved(), start)
	}
}

// A GOMAXPROCS set by the program (go test -cpu, or a user's call) is what
// the last release restores, not the runtime's default.
func TestReserveKeepsExplicitSetting(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	release := Reserve(2)
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Fatalf("GOMAXPROCS = %d, want 3", got)
	}
	release()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS after release = %d, want 1", got)
	}
}
