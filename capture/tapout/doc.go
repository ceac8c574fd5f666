// Package tapout holds the outputs of surge capture proxy, each a
// capture.TapOutput: Parquet, a hive-partitioned directory whose parts roll
// by time and size (eventlog.RollingWriter), and Kafka, a topic in
// kafkalog's record encoding. Both fail without blocking for long: an
// output that cannot write refuses events for a back-off period, and the
// tap counts them as dropped.
package tapout
