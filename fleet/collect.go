package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNoRun is returned for a run the control topic has no start of.
var ErrNoRun = fmt.Errorf("no such run on the control topic")

// State returns run's State as the control topic has it now.
func (t Topics) State(ctx context.Context, run string) (State, error) {
	events, err := t.Events(ctx, run)
	if err != nil {
		return State{}, err
	}
	st, _ := Fold(run, events)
	if st.Spec == nil {
		return st, fmt.Errorf("run %s: %w %s", run, ErrNoRun, t.control())
	}
	return st, nil
}

// Report merges the agents' reports of run present now.
func (t Topics) Report(ctx context.Context, run string) (*FleetReport, State, error) {
	st, err := t.State(ctx, run)
	if err != nil {
		return nil, st, err
	}
	reps, err := t.Reports(ctx, run)
	if err != nil {
		return nil, st, err
	}
	fr, err := Merge(st.Spec, reps)
	if fr != nil {
		fr.Late, fr.GraceS = st.Spec.late(), st.Spec.grace().Seconds()
	}
	return fr, st, err
}

// Wait polls until run has ended (its schedule's end, moved by pauses or
// the stop, has passed) and every agent that took part sent its final
// report, then returns the merged report. After the end plus patience it
// returns what it has, with Done false.
//
// While it waits, it checks the run's abort_on_fail thresholds on the
// merged results (twice a second, from the run's start); the first that
// fails stops the run (a stop event on the control topic, in effect
// DefaultLead later, at the same point on every agent), and the report returned is aborted with that threshold as its
// reason (exit 3, as surge replay's). Without a Wait, nothing aborts a
// fleet run on a threshold.
func (t Topics) Wait(ctx context.Context, run string, patience time.Duration) (*FleetReport, error) {
	abort := ""
	done := func(fr *FleetReport) (*FleetReport, error) {
		if abort != "" {
			fr.Summary.Aborted, fr.Summary.AbortReason = true, abort
			fr.Summary.Settle()
		}
		return fr, nil
	}
	// reading is when Wait last started reading the topics again after
	// failing to (a broker restarting): an agent counts as silent only
	// when it has been for silence since then too, as it could not
	// publish either.
	reading := time.Now()
	var failedAt time.Time // of the first failure of the current streak
	var last State         // the latest state read
	for {
		fr, st, err := t.Report(ctx, run)
		if err != nil {
			// No such run is final; anything else may be the brokers
			// coming back: try again until the run's end plus settle
			// and patience (or ctx's end).
			end, ok := last.End()
			if errors.Is(err, ErrNoRun) || ctx.Err() != nil || (last.Spec != nil && ok && time.Now().After(end.Add(settle+patience))) {
				return nil, err
			}
			if failedAt.IsZero() {
				failedAt = time.Now()
			}
			select {
			case <-ctx.Done():
				return nil, err
			case <-time.After(500 * time.Millisecond):
			}
			continue
		}
		if !failedAt.IsZero() {
			failedAt, reading = time.Time{}, time.Now()
		}
		last = st
		now := time.Now()
		if abort == "" && st.Stop.IsZero() && now.After(st.Spec.StartAt) {
			if r, failed := fr.AbortCheck(now.Sub(st.Spec.StartAt)); failed {
				abort = fmt.Sprintf("threshold %s %s failed (value %g): abort_on_fail", r.Metric, r.Threshold, r.Value)
				if err := t.Publish(ctx, Event{Run: run, Op: OpStop, At: now.Add(DefaultLead), Issued: now, By: "surge run start --wait: " + abort}); err != nil {
					return nil, err
				}
				continue
			}
		}
		end, ok := st.End()
		if ok && now.After(end) && fr.Done {
			return done(fr)
		}
		if ok && now.After(end.Add(settle)) && now.Sub(reading) >= silence {
			if silent := silentAgents(fr, now); len(silent) > 0 {
				fr.Warnings = append(fr.Warnings, silent...)
				return done(fr)
			}
		}
		if ok && now.After(end.Add(settle+patience)) {
			fr.Warnings = append(fr.Warnings, fmt.Sprintf("not every agent sent its final report within %v of the end", settle+patience))
			return done(fr)
		}
		select {
		case <-ctx.Done():
			return fr, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// silence is how long after its latest report an agent that has not sent
// its final one is taken for dead (agents report once a second).
const silence = 3 * time.Second

// silentAgents returns a warning for each agent without a final report
// that has been silent for silence at now, when every such agent has; nil
// while one of them may still report.
func silentAgents(fr *FleetReport, now time.Time) []string {
	var out []string
	for _, a := range fr.Agents {
		if a.Final || a.Refused != "" {
			continue
		}
		if now.Sub(a.LastReport) < silence {
			return nil
		}
		out = append(out, fmt.Sprintf("agent %s sent no report since %s and no final one: it died or lost the brokers; its results after that are missing from this report (its partitions moved to the others)",
			a.Agent, a.LastReport.UTC().Format(time.RFC3339Nano)))
	}
	return out
}
