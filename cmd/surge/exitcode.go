package main

import (
	"errors"

	"github.com/surge-replay/surge/replay"
	"github.com/surge-replay/surge/report"
)

// Exit codes of surge. CI gates on them; docs/REPORT.md and the README carry
// the same table. Each says one thing, so a pipeline can tell a slow target
// from a broken run:
//
//	0    the run is valid (the generator kept up, nothing aborted) and every
//	     threshold passed; for surge report compare, no regression
//	1    any other error (a file that cannot be read, a results sink that failed)
//	2    usage: a bad flag, config or threshold, or nothing to schedule (--ratio 0)
//	3    aborted: an abort rule (--abort-error-rate, a threshold's abort_on_fail)
//	     stopped the run, or its schedule failed
//	4    thresholds failed (or, for surge report compare, a regression beyond
//	     the bounds)
//	5    the generator fell behind: its p99 lateness was over 5 ms or it
//	     dropped requests past their deadline, so the run is invalid
//	6    target unreachable: requests were sent but none got any answer, every
//	     one failing to connect (connect or tls)
//	130  stopped by Ctrl-C (SIGINT or SIGTERM)
//
// When several hold, the first in this order wins: 130, 6, 3, 5, 4 (the
// order of report.RunSummary.Settle).
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitAborted     = 3
	exitThresholds  = 4
	exitBehind      = 5
	exitUnreachable = 6
)

// verdictExit maps a run's verdict to its exit code.
var verdictExit = map[string]int{
	report.VerdictPass:             exitOK,
	report.VerdictThresholdsFailed: exitThresholds,
	report.VerdictAborted:          exitAborted,
	report.VerdictBehind:           exitBehind,
	report.VerdictUnreachable:      exitUnreachable,
	report.VerdictEmpty:            exitUsage,
}

// verdictMessage is the error surge prints for a verdict other than pass.
var verdictMessage = map[string]string{
	report.VerdictThresholdsFailed: "thresholds failed",
	report.VerdictBehind:           "the generator fell behind: the run is invalid (see the report's lateness)",
	report.VerdictUnreachable:      "target unreachable: no request got an answer",
	report.VerdictEmpty:            "nothing was scheduled (is --ratio too small?)",
}

// runExit returns the exit of a run that ran, from the engine's error, an
// interrupt and the run's settled summary.
func runExit(err error, interrupted bool, s *report.RunSummary) error {
	switch {
	case interrupted:
		return &exitError{exitSignal, err}
	case err != nil && !errors.Is(err, replay.ErrStopped):
		return err
	}
	code := verdictExit[s.Outcome]
	if code == exitOK {
		return nil
	}
	msg := verdictMessage[s.Outcome]
	if s.Outcome == report.VerdictAborted {
		msg = "aborted: " + s.AbortReason
	}
	return &exitError{code, errors.New(msg)}
}
