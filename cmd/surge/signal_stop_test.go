package main

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestStoppedBySignal checks that work a signal stopped exits 130 with a
// sentence, and any other error is left alone.
func TestStoppedBySignal(t *testing.T) {
	parent := context.Background()
	stopped, cancel := context.WithCancel(parent)
	cancel()
	boom := errors.New("boom")

	// a signal: 130 and a sentence, not "context canceled"
	err := stoppedBySignal(parent, stopped, "profile synth", context.Canceled)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitSignal || !strings.Contains(err.Error(), "profile synth: stopped by a signal") {
		t.Errorf("signal: %v; want exit 130 and 'profile synth: stopped by a signal'", err)
	}
	// no signal: the error as it is
	if err := stoppedBySignal(parent, parent, "profile synth", boom); err != boom {
		t.Errorf("no signal: %v; want boom", err)
	}
	// success stays success
	if err := stoppedBySignal(parent, stopped, "profile synth", nil); err != nil {
		t.Errorf("nil: %v", err)
	}
	// the parent itself cancelled (not our signal): left alone
	if err := stoppedBySignal(stopped, stopped, "profile synth", boom); err != boom {
		t.Errorf("parent cancelled: %v; want boom", err)
	}
}
