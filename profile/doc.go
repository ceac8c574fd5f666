// Package profile owns traffic profiles: what a capture's traffic looked
// like, in aggregates a data engineer can hand on — the arrival curve of new
// sessions, requests per route group over time, concurrency, session
// lengths and requests per session, think times per route transition, the
// route-transition matrix per session class, the region, device and
// protocol mix over time, the status mix per route, and the notable moments
// (sharp rises and drops) of the arrival and concurrency curves.
//
// Build reads a capture's columns with Arrow (pqarrow record batches) and
// aggregates over them without materializing events; its memory is bounded
// by the profile's size (time buckets × route groups, histograms) and the
// live sessions, not by the capture's length. A Profile is written as a
// directory: profile.yaml (Meta) and one Parquet table per aggregate, which
// DuckDB, pyarrow and pandas read (layout in docs/PROFILES.md). Load reads
// one back; Show, Plot and Compare present and compare them.
package profile
