package report

import (
	"fmt"
	"strings"

	"github.com/surge-replay/surge/schema"
)

// Verdicts of a run (RunSummary.Outcome). Each maps to one exit code of
// surge replay (docs/REPORT.md, "Exit codes").
const (
	VerdictPass             = "pass"
	VerdictThresholdsFailed = "thresholds_failed"
	VerdictAborted          = "aborted"
	VerdictBehind           = "generator_behind"
	VerdictUnreachable      = "unreachable"
	VerdictEmpty            = "nothing_scheduled"
)

// ClassTLS is the error class of a request whose TLS handshake failed.
const ClassTLS = "tls"

// Settle sets s.Outcome from the rest of s. The first that holds wins:
//
//	nothing_scheduled  no request was scheduled
//	unreachable        requests were sent, none got a response, and every
//	                   one failed to connect (connect or tls)
//	aborted            the run stopped early (Aborted)
//	generator_behind   the generator did not keep up: the run is invalid
//	thresholds_failed  a threshold failed
//	pass               otherwise
//
// Call it again after setting Aborted or Thresholds.
func (s *RunSummary) Settle() {
	switch {
	case s.Scheduled == 0:
		s.Outcome = VerdictEmpty
	case s.Unreachable():
		s.Outcome = VerdictUnreachable
	case s.Aborted:
		s.Outcome = VerdictAborted
	case s.Sent > 0 && !s.GeneratorKeptUp:
		s.Outcome = VerdictBehind
	case s.Thresholds.Failed():
		s.Outcome = VerdictThresholdsFailed
	default:
		s.Outcome = VerdictPass
	}
}

// Unreachable reports whether the target never answered: something was
// sent, nothing got a response, and every failure was a connect or TLS
// error.
func (s *RunSummary) Unreachable() bool {
	if s.Sent == 0 || s.Completed > 0 {
		return false
	}
	var n int64
	for class, c := range s.ErrorsBy {
		if class != schema.ErrConnect && class != ClassTLS {
			return false
		}
		n += c
	}
	return n == s.Sent
}

// writeGate writes the thresholds, the abort and the verdict.
func (s *RunSummary) writeGate(b *strings.Builder) {
	if len(s.Thresholds) > 0 {
		passed := 0
		for _, r := range s.Thresholds {
			if r.OK {
				passed++
			}
		}
		fmt.Fprintf(b, "\nthresholds (%d of %d passed)\n", passed, len(s.Thresholds))
		for _, r := range s.Thresholds {
			line := "  " + r.String()
			if r.NoData && !r.OK {
				line += " (fails: no result matched; no_data: pass to allow)"
			}
			b.WriteString(line + "\n")
		}
	}
	if s.Aborted {
		fmt.Fprintf(b, "\nABORTED: %s\n", s.AbortReason)
	}
	fmt.Fprintf(b, "verdict: %s\n", verdictText[s.Outcome])
}

var verdictText = map[string]string{
	VerdictPass:             "PASS",
	VerdictThresholdsFailed: "THRESHOLDS FAILED",
	VerdictAborted:          "ABORTED: the run is incomplete",
	VerdictBehind:           "INVALID: the generator fell behind",
	VerdictUnreachable:      "TARGET UNREACHABLE: no request got an answer",
	VerdictEmpty:            "NOTHING SCHEDULED",
}
