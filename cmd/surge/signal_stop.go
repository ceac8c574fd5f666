package main

import (
	"context"
	"fmt"
)

// stoppedBySignal turns the error of work that a signal stopped (ctx made by
// signal.NotifyContext over parent, and cancelled while parent was not) into
// exit code 130 and a sentence saying so, instead of "context canceled".
// Other errors are returned as they are.
func stoppedBySignal(parent, ctx context.Context, what string, err error) error {
	return stoppedBySignalLeaving(parent, ctx, what, "nothing was written", err)
}

// stoppedBySignalLeaving is stoppedBySignal for work that leaves something
// behind when stopped: left says what.
func stoppedBySignalLeaving(parent, ctx context.Context, what, left string, err error) error {
	if err == nil || ctx.Err() == nil || parent.Err() != nil {
		return err
	}
	return &exitError{exitSignal, fmt.Errorf("%s: stopped by a signal (Ctrl-C or SIGTERM); %s", what, left)}
}
