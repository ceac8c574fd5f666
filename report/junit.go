package report

import (
	"encoding/xml"
	"fmt"
	"io"
)

// JUnit XML, the test report format CI systems read (Jenkins, GitLab,
// GitHub Actions reporters): one testsuite, one testcase per threshold and
// one, "generator kept up", for the run's validity. A failed threshold or a
// generator that fell behind is a <failure>; an aborted run adds a
// testcase "run completed" that fails.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes s's thresholds and validity as JUnit XML.
func (s *RunSummary) WriteJUnit(w io.Writer) error {
	suite := junitSuite{Name: "surge replay " + s.Target, Time: s.DurationS}
	add := func(c junitCase) {
		c.Classname, c.Time = "surge.replay", s.DurationS
		suite.Cases = append(suite.Cases, c)
		suite.Tests++
		if c.Failure != nil {
			suite.Failures++
		}
	}
	kept := junitCase{Name: "generator kept up", SystemOut: s.Verdict()}
	if !s.GeneratorKeptUp || s.Sent == 0 {
		kept.Failure = &junitFailure{Type: "generator", Message: s.Verdict(), Text: s.Verdict()}
	}
	add(kept)
	if s.Aborted {
		add(junitCase{Name: "run completed", Failure: &junitFailure{Type: "aborted", Message: s.AbortReason, Text: s.AbortReason}})
	}
	if s.Unreachable() {
		msg := "no request got an answer: every one failed to connect"
		add(junitCase{Name: "target reachable", Failure: &junitFailure{Type: "unreachable", Message: msg, Text: msg}})
	}
	for _, r := range s.Thresholds {
		c := junitCase{Name: r.Metric + " " + r.Threshold, SystemOut: r.String()}
		if !r.OK {
			msg := fmt.Sprintf("%s=%g, want %s", r.Aggregation, r.Value, r.Threshold)
			if r.NoData {
				msg = "no data: no result matched " + r.Metric
			}
			c.Failure = &junitFailure{Type: "threshold", Message: msg, Text: r.String()}
		}
		add(c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{suite}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
