// Package kafkalog puts surge's event log in Apache Kafka: a producer Sink of
// exchanges keyed by session (one session lives in one partition, so its
// order holds), a Source that seeks every partition to a window's start by
// record timestamp and merges them in time order, the record encoding and
// its headers (schema version, content type), topic creation, and kafka://
// addresses.
//
// The wire format is documented in docs/KAFKA.md. The client is
// github.com/segmentio/kafka-go.
package kafkalog
