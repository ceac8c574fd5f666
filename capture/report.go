package capture

import (
	"errors"
	"time"
)

// Report says what an import did. It is stored as JSON in the output's
// metadata (schema.MetaProblems) and printed by surge inspect.
type Report struct {
	Format  string   `json:"format"`
	Files   []string `json:"files"`
	Records int64    `json:"records"` // records read, good or bad
	Events  int64    `json:"events"`  // events written
	// Frames counts WebSocket messages written (Options.Frames);
	// FramesDropped those read but not written (no Options.Frames).
	Frames        int64 `json:"frames,omitempty"`
	FramesDropped int64 `json:"frames_dropped,omitempty"`
	Skipped       int64 `json:"skipped"`  // bad records skipped
	Sessions      int64 `json:"sessions"` // sessions started
	// Disordered counts records whose request started before that of an
	// earlier record (access logs are written at response end);
	// MaxDisorderMS is the largest such step back.
	Disordered    int64 `json:"disordered"`
	MaxDisorderMS int64 `json:"max_disorder_ms"`
	// Late counts records that arrived after the re-order window had passed
	// their time: they are written, but may be sessionized out of order.
	Late int64 `json:"late"`
	// NoSessionKey counts records without the configured session key
	// (Options.Session: the cookie, header or query parameter): they are
	// sessionized by client address and user agent instead.
	NoSessionKey int64    `json:"no_session_key"`
	Scrubbed     Scrubbed `json:"scrubbed"`
	// Truncated counts events whose body was kept in part (over the body
	// limit): replay skips them (dropped_truncated) unless told to send
	// them as they are.
	Truncated int64 `json:"truncated"`
	// TruncatedAt names the first truncated events' records (Field "body",
	// Reason giving the bytes kept and recorded), in input order.
	TruncatedAt []Problem `json:"truncated_at,omitempty"`
	// TimeResolution is the coarsest time resolution of the inputs (a Go
	// duration, "1s"), also stored as schema.MetaResolution; Resolutions is
	// each input's. Empty when no input had a good record.
	TimeResolution string       `json:"time_resolution,omitempty"`
	Resolutions    []Resolution `json:"resolutions,omitempty"`
	First          time.Time    `json:"first,omitzero"`
	Last           time.Time    `json:"last,omitzero"`
	// Problems are the first bad records, in input order.
	Problems []Problem `json:"problems,omitempty"`
}

// Scrubbed counts the values the scrubber replaced: named secrets in
// headers, query parameters and body fields, user ids (query, body,
// headers), and secrets detected by their form (JWTs, key formats, cards).
type Scrubbed struct {
	Headers int64 `json:"headers"`
	Query   int64 `json:"query"`
	Fields  int64 `json:"fields"`
	Users   int64 `json:"users"`
	Values  int64 `json:"values"`
}

// Problem is one bad record of an import.
type Problem struct {
	File   string `json:"file"`
	Line   int64  `json:"line,omitempty"`
	Offset int64  `json:"offset"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// DefaultMaxProblems is how many problems a Report keeps when Options leave
// MaxProblems zero.
const DefaultMaxProblems = 20

// bad accounts for a record error: it is counted and kept as an example, and
// returned when strict. Any other error is returned as is (fatal).
func (r *Report) bad(err error, strict bool, max int) error {
	var re *RecordError
	if !errors.As(err, &re) {
		return err
	}
	r.Records++
	r.Skipped++
	if max <= 0 {
		max = DefaultMaxProblems
	}
	if len(r.Problems) < max {
		r.Problems = append(r.Problems, Problem{File: re.Pos.File, Line: re.Pos.Line, Offset: re.Pos.Offset, Field: re.Field, Reason: re.Reason})
	}
	if strict {
		return err
	}
	return nil
}

// span widens First and Last to t.
func (r *Report) span(t time.Time) {
	if r.First.IsZero() || t.Before(r.First) {
		r.First = t
	}
	if t.After(r.Last) {
		r.Last = t
	}
}
