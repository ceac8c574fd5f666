package kafkatest

import (
	"context"
	"testing"
	"time"

	"github.com/surge-replay/surge/eventlog/kafkalog"
)

// TestPrivateRestart starts a cluster of the test's own, restarts it and
// finds the topic created before the restart.
func TestPrivateRestart(t *testing.T) {
	c := Private(t, 1)
	a := Topic(t, c.Brokers, 2, "")
	c.Restart()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	parts, err := kafkalog.Partitions(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 {
		t.Fatalf("partitions after restart %v, want 2", parts)
	}
}
