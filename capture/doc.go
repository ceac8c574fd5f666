// Package capture owns getting events into surge: importers for access logs
// (combined and any nginx log_format), HAR 1.2, GoReplay .gor files, surge's
// own JSON lines and viewing histories; session identification for sources
// that have no session id; and scrubbing of secrets and personal data before
// anything reaches a file.
//
// An importer is a Decoder over one input file that yields Hits (an Exchange
// plus the raw facts sessionization needs). Import runs decoders through the
// pipeline: re-order by request start within a bounded window, sessionize,
// scrub, and hand each finished schema.Exchange to a sink.
package capture
