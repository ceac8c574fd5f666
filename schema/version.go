package schema

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is the schema version written into every file surge produces.
// Readers accept any minor version of the same major and refuse other majors.
//
// 1.1 added the optional exchange column connection_ns; 1.2 the optional
// WebSocket result columns (ws, ws_*: schema.WebSocket).
const Version = "1.2"

// Metadata keys surge writes into a Parquet file's key/value metadata.
const (
	MetaVersion  = "surge.schema_version" // Version at write time
	MetaKind     = "surge.kind"           // a Kind
	MetaSource   = "surge.source"         // which importer or tap produced the events
	MetaFirst    = "surge.first"          // RFC 3339 (nanoseconds) time of the first event
	MetaLast     = "surge.last"           // RFC 3339 (nanoseconds) time of the last event
	MetaEvents   = "surge.events"         // number of events in the file
	MetaProblems = "surge.import_report"  // JSON of the import report, when the file came from an import
	// MetaResolution is the time resolution the capture's times were
	// written at, a Go duration ("1s" for an access log's $time_local,
	// "1ms" for $msec or HAR), measured at import. Optional: absent in
	// files written before it (and in results), which means unknown, read
	// as exact times. Adding a metadata key changes no column, so Version
	// stays.
	MetaResolution = "surge.time_resolution"
)

// MetaRequestsFirst and MetaRequestsLast are MetaFirst and MetaLast of the
// events but long-lived connections (Exchange.LongLived), written only when
// a file holds such a connection (else they would equal MetaFirst and
// MetaLast): the range of its requests, not stretched by one socket.
const (
	MetaRequestsFirst = "surge.requests_first"
	MetaRequestsLast  = "surge.requests_last"
)

const (
	// MetaCaptureLoss is JSON of what a capture tap recorded and lost
	// (events written, dropped by reason, sampled out), when the events
	// came from surge capture proxy.
	MetaCaptureLoss = "surge.capture_loss"
)

// Kind names which event type a file holds.
type Kind string

// The kinds of event files.
const (
	KindExchange Kind = "exchange"
	KindFrame    Kind = "frame"
	KindView     Kind = "view"
	KindResult   Kind = "result"
)

// VersionError is returned by CheckVersion for a file written with a schema
// version this build cannot read.
type VersionError struct {
	Got  string // the version found in the file ("" when absent)
	Want string // Version
}

func (e *VersionError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("no %s in file metadata: not a surge event file (want schema %s)", MetaVersion, e.Want)
	}
	return fmt.Sprintf("schema version %q is not readable by this build (reads %s.x)", e.Got, major(e.Want))
}

// CheckVersion reports whether a file written with schema version v can be
// read by this build: same major version, any minor.
func CheckVersion(v string) error {
	m := major(v)
	if v == "" || m != major(Version) {
		return &VersionError{Got: v, Want: Version}
	}
	if _, err := strconv.Atoi(m); err != nil {
		return &VersionError{Got: v, Want: Version}
	}
	return nil
}

func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}
