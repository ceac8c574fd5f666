package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
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
// A pass that gated nothing the run's errors show gets VerdictNotes (see
// passNotes): the verdict and its exit code stay pass, the reports say why
// it is not the all-clear it looks like. Call Settle again after setting
// Aborted or Thresholds.
func (s *RunSummary) Settle() {
	defer func() { s.VerdictNotes = s.passNotes() }()
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

// passNotes returns the note of a pass with every sent request failed
// (errors of any class, http_4xx and http_5xx included): with no
// thresholds nothing gated the run; with thresholds, none gated on errors.
// Nil otherwise.
func (s *RunSummary) passNotes() []string {
	if s.Outcome != VerdictPass || s.Sent == 0 || s.Errors < s.Sent {
		return nil
	}
	failed := fmt.Sprintf("100%% of requests failed (%s of %s sent", count(s.Errors), count(s.Sent))
	keys := slices.SortedFunc(maps.Keys(s.ErrorsBy), func(x, y string) int {
		return cmp.Or(cmp.Compare(s.ErrorsBy[y], s.ErrorsBy[x]), cmp.Compare(x, y))
	})
	for i, k := range keys {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		failed += fmt.Sprintf("%s%s %s", sep, k, count(s.ErrorsBy[k]))
	}
	failed += ")"
	if len(s.Thresholds) == 0 {
		return []string{"no thresholds set; " + failed + `: nothing gated this run (set thresholds, e.g. errors: ["rate<0.01"])`}
	}
	return []string{"thresholds passed, but " + failed + ": no threshold gates on errors"}
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
	fmt.Fprintf(b, "verdict: %s", verdictText[s.Outcome])
	for _, n := range s.VerdictNotes {
		fmt.Fprintf(b, " (WARNING: %s)", n)
	}
	b.WriteString("\n")
}

var verdictText = map[string]string{
	VerdictPass:             "PASS",
	VerdictThresholdsFailed: "THRESHOLDS FAILED",
	VerdictAborted:          "ABORTED: the run is incomplete",
	VerdictBehind:           "INVALID: the generator fell behind",
	VerdictUnreachable:      "TARGET UNREACHABLE: no request got an answer",
	VerdictEmpty:            "NOTHING SCHEDULED",
}
