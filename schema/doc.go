// Package schema owns surge's event types: what one recorded HTTP exchange,
// WebSocket frame and viewing event is, their Arrow schema, their Parquet
// layout (the struct tags on the types), the schema version carried in every
// file's key/value metadata, and validation.
//
// Every other package speaks these types; this package imports no other
// package of surge.
//
// Column names are the Parquet struct tags; they are part of the public
// contract (DuckDB, pyarrow and Spark users query them by name) and change only
// with a new major schema version.
package schema
