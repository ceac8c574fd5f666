// Package eventlog owns surge's durable event logs on disk: a streaming,
// atomic Parquet writer that sorts events by time within each file, a
// streaming reader that prunes row groups by time, projects columns and
// merges many files in time order, and the hive-style directory layout
// (dt=YYYY-MM-DD/hour=HH/part-NNNNN.parquet) that DuckDB and Spark read as one
// partitioned dataset.
//
// The event types and their column layout are package schema's; this package
// decides how they sit in files.
package eventlog
