// Package report owns what surge says about traffic: summaries of captures
// (surge inspect), route grouping, distinct counting in bounded memory, and
// the text and JSON forms of those summaries.
//
// It also owns the replay report: an Aggregator folds replay results
// (schema.Result) into counts by outcome and error class, HDR latency
// histograms (from the intended and from the send time, and the generator's
// lateness) for the run and per route, and a per-second series, in memory
// bounded by routes and seconds. Its RunSummary is written for people
// (WriteText, ending with a verdict on whether the generator kept up) and
// for CI scripts (WriteJSON, a stable format described in docs/REPORT.md).
// SummarizeResults recomputes the same report from a results file alone,
// using the RunInfo the replay engine stored in the file's metadata.
package report
