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
	if err == nil || ctx.Err() == nil || parent.Err() != nil {
		return err
	}
	return &exitError{exitSignal, fmt.Errorf("%s: stopped by a signal (Ctrl-C or SIGTERM); nothing was written", what)}
}
