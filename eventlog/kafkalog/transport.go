package kafkalog

import (
	"time"

	"github.com/segmentio/kafka-go"
)

// MetadataTTL is how old the cluster metadata (which broker leads which
// partition) that surge's Kafka clients act on may be. kafka-go's default,
// 6 s, keeps a client sending to a broker that died for up to 6 s: a
// produce fails with "connection refused" and a ListOffsets with
// UNKNOWN_SERVER_ERROR (kafka-go files a failed round trip under that code)
// though another replica leads the partition already.
const MetadataTTL = time.Second

// transport is shared by every client and writer of this package and of
// package fleet: connections are pooled per cluster, and the metadata is
// refreshed at most MetadataTTL apart.
var transport = &kafka.Transport{MetadataTTL: MetadataTTL, DialTimeout: 5 * time.Second}

// Transport returns the kafka-go transport surge's Kafka clients share:
// metadata refreshed within MetadataTTL, so a client follows a partition
// to its new leader within about a second of a broker's loss. Safe for
// concurrent use.
func Transport() *kafka.Transport { return transport }
