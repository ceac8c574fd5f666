// Package report owns what surge says about traffic: summaries of captures
// (surge inspect), route grouping, distinct counting in bounded memory, and
// the text and JSON forms of those summaries.
package report
